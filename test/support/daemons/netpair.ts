/**
 * The usual interop topology: two fresh namespaces joined by one veth pair, with
 * IPv4 10.x.0.1/24 ↔ 10.x.0.2/24 and IPv6 fd00:x::1/64 ↔ fd00:x::2/64 (DAD off so the
 * addresses are usable at once). Namespaces are named from a per-run prefix and
 * deleted by `destroy()` — call it from afterAll.
 */
import { addNetns, addVethPair, deleteNetns, ip, newRunPrefix } from '../../../agent/lab/netns.js';
import { netnsExec } from '../../../agent/lab/netns.js';

export interface NetPair {
  prefix: string;
  a: { ns: string; v4: string; v6: string; ifname: string };
  b: { ns: string; v4: string; v6: string; ifname: string };
  destroy(): Promise<void>;
}

/** `subnet` (1..250) picks 10.<subnet>.0.0/24 and fd00:<subnet>::/64. */
export async function netPair(subnet = 1, prefix = newRunPrefix()): Promise<NetPair> {
  const a = { ns: `${prefix}a`, v4: `10.${subnet}.0.1`, v6: `fd00:${subnet}::1`, ifname: 'eth0' };
  const b = { ns: `${prefix}b`, v4: `10.${subnet}.0.2`, v6: `fd00:${subnet}::2`, ifname: 'eth0' };
  const destroy = async (): Promise<void> => {
    await deleteNetns(a.ns);
    await deleteNetns(b.ns);
  };
  try {
    await addNetns(a.ns);
    await addNetns(b.ns);
    for (const side of [a, b]) {
      await netnsExec(side.ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    }
    await addVethPair(a.ns, a.ifname, b.ns, b.ifname);
    for (const side of [a, b]) {
      await ip(side.ns, 'addr', 'add', `${side.v4}/24`, 'dev', side.ifname);
      await ip(side.ns, '-6', 'addr', 'add', `${side.v6}/64`, 'dev', side.ifname, 'nodad');
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { prefix, a, b, destroy };
}
