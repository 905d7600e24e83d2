/**
 * A star of namespaces: one centre joined to each leaf by its own veth pair
 * (centre side `eth<i>`, leaf side `eth0`). Leaf i uses 10.<subnet_i>.0.0/24 and
 * fd00:<subnet_i>::/64, centre .1 / ::1, leaf .2 / ::2. For three-party tests
 * (route reflection). `destroy()` deletes every namespace.
 */
import { addNetns, deleteNetns, ip, netnsExec, newRunPrefix } from '../../../agent/lab/netns.js';

export interface Leaf {
  ns: string;
  v4: string;
  v6: string;
  /** the centre's addresses on this leaf's link */
  centreV4: string;
  centreV6: string;
}

export interface NetStar {
  prefix: string;
  centre: string;
  leaves: Leaf[];
  destroy(): Promise<void>;
}

export async function netStar(subnets: number[], prefix = newRunPrefix()): Promise<NetStar> {
  const centre = `${prefix}c`;
  const leaves: Leaf[] = subnets.map((s, i) => ({ ns: `${prefix}l${i}`, v4: `10.${s}.0.2`, v6: `fd00:${s}::2`, centreV4: `10.${s}.0.1`, centreV6: `fd00:${s}::1` }));
  const destroy = async (): Promise<void> => {
    for (const l of leaves) await deleteNetns(l.ns);
    await deleteNetns(centre);
  };
  try {
    for (const ns of [centre, ...leaves.map((l) => l.ns)]) {
      await addNetns(ns);
      await netnsExec(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv4.ip_forward=1']);
    }
    for (const [i, l] of leaves.entries()) {
      const s = subnets[i] as number;
      await ip(centre, 'link', 'add', `eth${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', l.ns);
      await ip(centre, 'link', 'set', `eth${i}`, 'up');
      await ip(l.ns, 'link', 'set', 'eth0', 'up');
      await ip(centre, 'addr', 'add', `10.${s}.0.1/24`, 'dev', `eth${i}`);
      await ip(centre, '-6', 'addr', 'add', `fd00:${s}::1/64`, 'dev', `eth${i}`, 'nodad');
      await ip(l.ns, 'addr', 'add', `${l.v4}/24`, 'dev', 'eth0');
      await ip(l.ns, '-6', 'addr', 'add', `${l.v6}/64`, 'dev', 'eth0', 'nodad');
      await ip(l.ns, 'route', 'add', 'default', 'via', l.centreV4);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { prefix, centre, leaves, destroy };
}
