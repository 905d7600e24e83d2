/**
 * The daemon harness: real BGP daemons (and margay's own speaker) inside network
 * namespaces, with configs, sockets, pid and log files in a private temporary
 * directory, stopped by PID. Typical use in a test:
 *
 *   const net = await netPair(60);                       // two namespaces + a veth pair
 *   const b = await bird(net.b.ns, `router id ...; protocol bgp x { ... }`);
 *   const m = await margaySpeaker(net.a.ns, { asn, routerId, neighbors, originate });
 *   await waitFor('Established', async () => (await birdProtocolState(b, 'x')).startsWith('Established'));
 *   ... afterAll: await m.stop(); await b.stop(); await net.destroy();
 *
 * netStar(subnets) gives a centre namespace with one leaf per subnet (route
 * reflection, feeders). gobgp(ns, toml) has `cli(args)`; frr(ns, conf) runs bgpd
 * without zebra with a private /var/tmp and has `vtysh(cmd)`; exabgp(ns, conf)
 * takes API commands with `announce(line)` and shows what it received with
 * `received()`; writeMrt() builds a TABLE_DUMP_V2 feed for `gobgp mrt inject`.
 */
export * from './common.js';
export * from './netpair.js';
export * from './netstar.js';
export * from './bird.js';
export * from './gobgp.js';
export * from './frr.js';
export * from './exabgp.js';
export * from './margay.js';
export * from './mrt.js';
