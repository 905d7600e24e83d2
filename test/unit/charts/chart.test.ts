import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { renderChart, type Rendered, helmRenderBinary } from '../../support/helm-render/render.js';
import { REPO_ROOT } from '../../support/cli.js';
import { parse } from 'yaml';
import { kubernetesErrors } from './k8s-schemas.js';
import { checkCrd } from '../crds/structural-rules.js';

// The first run builds the Go renderer (cached by source hash): allow for it.
beforeAll(() => {
  helmRenderBinary();
}, 300_000);

const CHART = join(REPO_ROOT, 'charts', 'margay');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const find = (r: Rendered, kind: string, name?: string): Obj[] =>
  r.objects.map((o) => o.obj as Obj).filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
const one = (r: Rendered, kind: string, name?: string): Obj => {
  const all = find(r, kind, name);
  expect(all, `${kind} ${name ?? ''}`).toHaveLength(1);
  return all[0]!;
};

const VALUE_SETS: Record<string, Record<string, unknown>[]> = {
  default: [],
  ipip: [{ ipPools: [{ name: 'pool-ipip', cidr: '10.50.0.0/16', ipipMode: 'Always', natOutgoing: true }] }],
  vxlan: [{ ipPools: [{ name: 'pool-vxlan', cidr: '10.60.0.0/16', blockSize: 24, vxlanMode: 'Always' }] }],
  'external peers with secrets': [{
    bgp: {
      asNumber: 4200000001,
      nodeToNodeMesh: false,
      serviceClusterIPs: ['10.96.0.0/12'],
      peers: [
        { name: 'tor-a', peerIP: '192.168.1.1', asNumber: 65001, nodeSelector: "rack == 'a'", password: { existingSecret: { name: 'tor-a-bgp', key: 'password' } } },
        { name: 'tor-b', peerIP: 'fd00::1', asNumber: 4294967295, node: 'node-b', keepOriginalNextHop: true, maxRestartTime: '120s', password: { existingSecret: { name: 'tor-b-bgp', key: 'pw' } } },
        { name: 'rr', peerSelector: "route-reflector == 'true'" },
      ],
    },
  }],
  'custom pools': [{
    ipPools: [
      { name: 'blue', cidr: '10.70.0.0/16', blockSize: 28, vxlanMode: 'CrossSubnet', nodeSelector: "zone == 'blue'" },
      { name: 'green-v6', cidr: 'fd00:70::/56', blockSize: 122, vxlanMode: 'Always' },
      { name: 'frozen', cidr: '10.71.0.0/24', blockSize: 26, disabled: true },
    ],
  }],
  'no pools, capabilities instead of privileged, own service account': [{
    ipPools: [], privileged: false, serviceAccount: { create: false, name: 'margay-sa' }, rbac: { create: true, readSecrets: true },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'net', effect: 'NoSchedule' }], healthPort: 9199, logLevel: 'debug',
  }],
};

const renders = new Map<string, Rendered>();
const render = (name: string): Rendered => {
  if (!renders.has(name)) renders.set(name, renderChart(CHART, { values: VALUE_SETS[name]! }));
  return renders.get(name)!;
};

describe('chart renders valid Kubernetes objects', () => {
  it.each(Object.keys(VALUE_SETS))('%s: every object passes the API schemas (and CRD schemas for margay.io)', (name) => {
    const r = render(name);
    expect(r.objects.length).toBeGreaterThan(5);
    expect(r.objects.flatMap((o) => kubernetesErrors(o.obj).map((e) => `${o.source}: ${e}`))).toEqual([]);
    const keys = r.objects.map((o) => `${o.obj.kind}/${(o.obj.metadata as Obj).name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('the chart ships the six CRDs; they pass the CRD API schema and the structural rules', () => {
    const r = render('default');
    expect(r.crds).toHaveLength(6);
    for (const c of r.crds) {
      const crd = parse(c.content) as Record<string, unknown>;
      expect(kubernetesErrors(crd), c.source).toEqual([]);
      expect(checkCrd(crd), c.source).toEqual([]);
    }
  });

  it('the schema check can fail: a broken DaemonSet, IPPool and an unexpected kind are reported', () => {
    const ds = structuredClone(one(render('default'), 'DaemonSet'));
    ds.spec.template.spec.containers[0].ports[0].containerPort = 'health';
    delete ds.spec.selector;
    ds.spec.template.spec.containers[0].readinesProbe = {};
    expect(kubernetesErrors(ds).join('\n')).toMatch(/containerPort must be integer/);
    expect(kubernetesErrors(ds).join('\n')).toMatch(/must have required property selector/);
    expect(kubernetesErrors(ds)).toContain('apps/v1 DaemonSet: spec.template.spec.containers[0].readinesProbe: unknown field');
    const pool = structuredClone(one(render('default'), 'IPPool'));
    pool.spec.vxlanMode = 'Sometimes';
    expect(kubernetesErrors(pool)).toEqual(['margay.io/v1 IPPool: spec.vxlanMode: Unsupported value: "Sometimes": supported values: "Always", "CrossSubnet", "Never"']);
    expect(kubernetesErrors({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } })).toEqual(['v1 Secret: not a kind the chart should render']);
  });
});

describe('DaemonSet', () => {
  const ds = (name = 'default') => one(render(name), 'DaemonSet');

  it('runs on the host network, privileged, system-node-critical, tolerating every taint', () => {
    const spec = ds().spec.template.spec;
    expect(spec.hostNetwork).toBe(true);
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.tolerations).toContainEqual({ operator: 'Exists' });
    expect(spec.containers[0].securityContext).toEqual({ privileged: true });
  });

  it('rolls one node at a time', () => {
    expect(ds().spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  });

  it('probes /healthz and /readyz on the health port', () => {
    const c = ds().spec.template.spec.containers[0];
    expect(c.livenessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/healthz', port: 9099 });
    expect(c.readinessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/readyz', port: 9099 });
    const custom = ds('no pools, capabilities instead of privileged, own service account').spec.template.spec.containers[0];
    expect(custom.livenessProbe.httpGet.port).toBe(9199);
    expect(custom.readinessProbe.httpGet.port).toBe(9199);
  });

  it('metrics.address sets MARGAY_HEALTH_ADDRESS (default 127.0.0.1: node-local); the probes reach the port in every setting', () => {
    const at = (address?: string) => renderChart(CHART, { values: address === undefined ? [] : [{ metrics: { address } }] });
    for (const [address, bound, probe] of [[undefined, '127.0.0.1', '127.0.0.1'], ['0.0.0.0', '0.0.0.0', '127.0.0.1'], ['::', '::', '::1']] as const) {
      const r = at(address);
      expect(one(r, 'ConfigMap').data.MARGAY_HEALTH_ADDRESS, String(address)).toBe(bound);
      const c = one(r, 'DaemonSet').spec.template.spec.containers[0];
      // host network: kubelet's httpGet to the loopback reaches a port bound there or to the wildcard
      expect(c.livenessProbe.httpGet).toEqual({ host: probe, path: '/healthz', port: 9099 });
      expect(c.readinessProbe.httpGet).toEqual({ host: probe, path: '/readyz', port: 9099 });
      expect(r.objects.flatMap((o) => kubernetesErrors(o.obj))).toEqual([]);
    }
  });

  it('metrics.annotations adds the prometheus.io scrape annotations (port = healthPort); off by default', () => {
    const annotations = (values: Record<string, unknown>[]): Obj => one(renderChart(CHART, { values }), 'DaemonSet').spec.template.metadata.annotations;
    expect(Object.keys(annotations([])).filter((k) => k.startsWith('prometheus.io/'))).toEqual([]);
    expect(annotations([{ healthPort: 9199, metrics: { address: '0.0.0.0', annotations: true } }])).toMatchObject({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '9199', 'prometheus.io/path': '/metrics',
    });
  });

  it('mounts only the host paths it needs: CNI dirs in the init container, run dir, modules (ro), xtables lock and netns dir in the agent', () => {
    const spec = ds().spec.template.spec;
    const hostPaths = Object.fromEntries(spec.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => [v.name, v.hostPath.path]));
    expect(hostPaths).toEqual({
      'cni-bin': '/opt/cni/bin', 'cni-net': '/etc/cni/net.d', 'run-margay': '/run/margay', 'lib-modules': '/lib/modules', 'xtables-lock': '/run/xtables.lock', netns: '/var/run/netns',
    });
    const agentMounts = spec.containers[0].volumeMounts.map((m: Obj) => [m.name, m.mountPath, m.readOnly ?? false]);
    expect(agentMounts).toEqual([['run-margay', '/run/margay', false], ['lib-modules', '/lib/modules', true], ['xtables-lock', '/run/xtables.lock', false], ['netns', '/var/run/netns', false]]);
    const init = spec.initContainers[0];
    expect(init.name).toBe('install-cni');
    expect(init.volumeMounts.map((m: Obj) => m.name).sort()).toEqual(['cni-bin', 'cni-net', 'config']);
    expect(spec.volumes.find((v: Obj) => v.name === 'xtables-lock').hostPath.type).toBe('FileOrCreate');
  });

  it('mounts the host\'s /var/run/netns in the agent with HostToContainer propagation (the agent opens CNI_NETNS itself)', () => {
    const spec = ds().spec.template.spec;
    const vol = spec.volumes.find((v: Obj) => v.hostPath?.path === '/var/run/netns');
    expect(vol, 'a hostPath volume for /var/run/netns').toBeDefined();
    expect(vol.hostPath.type).toBe('DirectoryOrCreate');
    const mount = spec.containers[0].volumeMounts.find((m: Obj) => m.name === vol.name);
    // containerd and CRI-O bind-mount each pod's namespace file there after the agent started
    expect(mount).toEqual({ name: vol.name, mountPath: '/var/run/netns', mountPropagation: 'HostToContainer' });
    // /proc/<pid>/ns/net paths (cri-dockerd) need the host's PID namespace: off unless asked for
    expect(spec.hostPID).toBeUndefined();
    const withPid = one(renderChart(CHART, { values: [{ hostPID: true }] }), 'DaemonSet').spec.template.spec;
    expect(withPid.hostPID).toBe(true);
  });

  it('with privileged=false mounts the host\'s /proc/sys/net read-write at /host/proc/sys/net and sets MARGAY_PROC_SYS=/host/proc/sys', () => {
    const spec = ds('no pools, capabilities instead of privileged, own service account').spec.template.spec;
    const vol = spec.volumes.find((v: Obj) => v.hostPath?.path === '/proc/sys/net');
    expect(vol, 'a hostPath volume for /proc/sys/net').toBeDefined();
    expect(vol.hostPath.type).toBe('Directory');
    const agent = spec.containers[0];
    // read-write (no readOnly), and not inside /proc (runc refuses mount destinations there)
    expect(agent.volumeMounts.filter((m: Obj) => m.name === vol.name)).toEqual([{ name: vol.name, mountPath: '/host/proc/sys/net' }]);
    expect(agent.env).toContainEqual({ name: 'MARGAY_PROC_SYS', value: '/host/proc/sys' });
    expect(spec.initContainers[0].volumeMounts.map((m: Obj) => m.name)).not.toContain(vol.name);
    // the same for privileged=false alone, on otherwise default values
    const plain = one(renderChart(CHART, { values: [{ privileged: false }] }), 'DaemonSet').spec.template.spec;
    expect(plain.containers[0].volumeMounts.map((m: Obj) => m.mountPath)).toContain('/host/proc/sys/net');
    expect(plain.containers[0].env).toContainEqual({ name: 'MARGAY_PROC_SYS', value: '/host/proc/sys' });
  });

  it('privileged (the default) mounts no /proc/sys/net and sets no MARGAY_PROC_SYS: its own /proc/sys is writable', () => {
    const spec = ds().spec.template.spec;
    expect(spec.volumes.filter((v: Obj) => v.hostPath?.path === '/proc/sys/net')).toEqual([]);
    expect(spec.containers[0].volumeMounts.map((m: Obj) => m.mountPath)).not.toContain('/host/proc/sys/net');
    expect(spec.containers[0].env.map((e: Obj) => e.name)).not.toContain('MARGAY_PROC_SYS');
    const cm = one(render('default'), 'ConfigMap').data;
    expect(Object.keys(cm)).not.toContain('MARGAY_PROC_SYS');
  });

  it('with privileged=false gets exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SYS_ADMIN and drops the rest', () => {
    const sc = ds('no pools, capabilities instead of privileged, own service account').spec.template.spec.containers[0].securityContext;
    expect(sc).toEqual({ privileged: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE', 'SYS_ADMIN'] } });
  });

  it('privileged=false with hostPID=true adds SYS_PTRACE (opening /proc/<pid>/ns/net of another uid\'s process is a ptrace access check); not without hostPID', () => {
    const caps = (values: Record<string, unknown>): Obj => one(renderChart(CHART, { values: [values] }), 'DaemonSet').spec.template.spec.containers[0].securityContext;
    expect(caps({ privileged: false, hostPID: true }).capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE', 'SYS_ADMIN', 'SYS_PTRACE'] });
    expect(caps({ privileged: false, hostPID: false }).capabilities.add).not.toContain('SYS_PTRACE');
    expect(caps({ privileged: true, hostPID: true })).toEqual({ privileged: true });
    // named by hand (the schema allows it): listed once
    expect(caps({ privileged: false, hostPID: true, capabilities: ['NET_ADMIN', 'SYS_PTRACE', 'SYS_ADMIN'] }).capabilities.add).toEqual(['NET_ADMIN', 'SYS_PTRACE', 'SYS_ADMIN']);
    expect(caps({ privileged: false, capabilities: ['NET_ADMIN', 'SYS_PTRACE'] }).capabilities.add).toEqual(['NET_ADMIN', 'SYS_PTRACE']);
  });

  it('adds extra tolerations after the catch-all and keeps the node selector', () => {
    const spec = ds('no pools, capabilities instead of privileged, own service account').spec.template.spec;
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }, { key: 'dedicated', operator: 'Equal', value: 'net', effect: 'NoSchedule' }]);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.serviceAccountName).toBe('margay-sa');
  });

  it('rolls the pods when the configuration changes (config checksum)', () => {
    const a = ds('default').spec.template.metadata.annotations['checksum/config'];
    const b = ds('no pools, capabilities instead of privileged, own service account').spec.template.metadata.annotations['checksum/config'];
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });

  it('uses the image built from the top-level Dockerfile, tagged with the appVersion', () => {
    const spec = ds().spec.template.spec;
    expect(spec.containers[0].image).toBe('ghcr.io/margay-io/margay:0.1.0');
    expect(spec.initContainers[0].image).toBe(spec.containers[0].image);
  });
});

const MARGAY = { type: 'margay-cni', socket: '/run/margay/cni.sock' };
// as Calico's conflist chains them (snat: hairpin and localhost hostPort traffic)
const PORTMAP = { type: 'portmap', snat: true, capabilities: { portMappings: true } };
const BANDWIDTH = { type: 'bandwidth', capabilities: { bandwidth: true } };

describe('ConfigMap', () => {
  it('carries the agent settings and a CNI conflist that kubelet can read', () => {
    const cm = one(render('default'), 'ConfigMap');
    expect(cm.data).toMatchObject({
      MARGAY_DATASTORE: 'kubernetes', MARGAY_LOG_LEVEL: 'info', MARGAY_HEALTH_PORT: '9099',
      MARGAY_BGP: 'on', MARGAY_BGP_AS_NUMBER: '64512', MARGAY_BGP_NODE_TO_NODE_MESH: 'true',
    });
    const conflist = JSON.parse(cm.data['cni-conflist']);
    expect(conflist).toMatchObject({ cniVersion: '1.0.0', name: 'margay' });
    expect(conflist.plugins).toEqual([{ type: 'margay-cni', socket: '/run/margay/cni.sock' }, PORTMAP, BANDWIDTH]);
    const custom = one(renderChart(CHART, { values: [{ cni: { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d', conflistName: '10-margay.conflist', pluginConfig: { mtu: 1400 } } }] }), 'ConfigMap');
    expect(JSON.parse(custom.data['cni-conflist']).plugins).toEqual([{ type: 'margay-cni', socket: '/run/margay/cni.sock', mtu: 1400 }, PORTMAP, BANDWIDTH]);
    expect(cm.data['install-cni.sh']).toContain('mv -f "$CONF/.10-margay.conflist.new" "$CONF/10-margay.conflist"');
  });

  it('chains portmap (hostPort) and bandwidth (traffic shaping) after margay-cni by default; cni.portmap/bandwidth.enabled=false leave each out', () => {
    const plugins = (values: Record<string, unknown>[]): Obj[] => JSON.parse(one(renderChart(CHART, { values }), 'ConfigMap').data['cni-conflist']).plugins;
    // kubelet passes pods' hostPorts as runtimeConfig.portMappings and their bandwidth
    // annotations as runtimeConfig.bandwidth only to plugins declaring those capabilities
    expect(plugins([]).map((p) => p.type)).toEqual(['margay-cni', 'portmap', 'bandwidth']);
    expect(plugins([{ cni: { portmap: { enabled: false } } }])).toEqual([MARGAY, BANDWIDTH]);
    expect(plugins([{ cni: { bandwidth: { enabled: false } } }])).toEqual([MARGAY, PORTMAP]);
    expect(plugins([{ cni: { portmap: { enabled: false }, bandwidth: { enabled: false } } }])).toEqual([MARGAY]);
    expect(plugins([{ cni: { portmap: { enabled: true }, bandwidth: { enabled: true } } }])).toEqual([MARGAY, PORTMAP, BANDWIDTH]);
    expect(() => renderChart(CHART, { values: [{ cni: { portmap: { enabled: 'yes' } } }] })).toThrow(/cni\.portmap\.enabled/);
  });

  it('the install script installs the chained plugins the conflist uses, and only those', () => {
    const script = (values: Record<string, unknown>[]): string => one(renderChart(CHART, { values }), 'ConfigMap').data['install-cni.sh'];
    expect(script([])).toMatch(/for p in portmap bandwidth; do/);
    expect(script([{ cni: { portmap: { enabled: false } } }])).toMatch(/for p in bandwidth; do/);
    expect(script([{ cni: { portmap: { enabled: false }, bandwidth: { enabled: false } } }])).not.toMatch(/for p in/);
  });

  it('iptablesBackend: auto by default (the agent follows the node\'s backend), or the one set', () => {
    expect(one(render('default'), 'ConfigMap').data.MARGAY_IPTABLES_BACKEND).toBe('auto');
    expect(one(renderChart(CHART, { values: [{ iptablesBackend: 'legacy' }] }), 'ConfigMap').data.MARGAY_IPTABLES_BACKEND).toBe('legacy');
  });

  it('bgp.enabled=false runs the agent without its BGP speaker and exposes no BGP port', () => {
    const off = renderChart(CHART, { values: [{ bgp: { enabled: false } }] });
    expect(one(off, 'ConfigMap').data.MARGAY_BGP).toBe('off');
    const ports = (one(off, 'DaemonSet').spec.template.spec.containers[0].ports as Obj[]).map((p) => p.name);
    expect(ports).toEqual(['health']);
    const on = (one(render('default'), 'DaemonSet').spec.template.spec.containers[0].ports as Obj[]).map((p) => p.name);
    expect(on).toEqual(['health', 'bgp']);
  });

  it('prints a 4-octet AS number as an integer (values are JSON numbers in Helm)', () => {
    const cm = one(render('external peers with secrets'), 'ConfigMap');
    expect(cm.data.MARGAY_BGP_AS_NUMBER).toBe('4200000001');
    expect(cm.data.MARGAY_BGP_NODE_TO_NODE_MESH).toBe('false');
  });
});

describe('RBAC', () => {
  const rulesOf = (r: Rendered) => [...find(r, 'ClusterRole'), ...find(r, 'Role')].flatMap((x) => x.rules as Obj[]);

  it.each(Object.keys(VALUE_SETS))('%s: no "*" in any rule', (name) => {
    for (const rule of rulesOf(render(name))) {
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
        expect(rule[field] ?? [], `${field} of ${JSON.stringify(rule)}`).not.toContain('*');
      }
    }
  });

  it('grants exactly what the agent uses', () => {
    expect(one(render('default'), 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['nodes', 'pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['margay.io'], resources: ['ippools', 'bgppeers', 'bgpconfigurations'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['margay.io'], resources: ['ipamblocks', 'ipamhandles'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
    ]);
    const crb = one(render('default'), 'ClusterRoleBinding');
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'margay', namespace: 'kube-system' }]);
  });

  it('reads no Secrets unless a peer password needs one, and then only those Secrets, in its namespace', () => {
    expect(find(render('default'), 'Role')).toEqual([]);
    const role = one(render('external peers with secrets'), 'Role');
    expect(role.metadata.namespace).toBe('kube-system');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['tor-a-bgp', 'tor-b-bgp'] }]);
    const rb = one(render('external peers with secrets'), 'RoleBinding');
    expect(rb.roleRef.name).toBe(role.metadata.name);
    const open = one(render('no pools, capabilities instead of privileged, own service account'), 'Role');
    expect(open.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
  });

  it('creates no ServiceAccount when told to use an existing one', () => {
    expect(find(render('no pools, capabilities instead of privileged, own service account'), 'ServiceAccount')).toEqual([]);
    expect(one(render('default'), 'ServiceAccount').metadata.name).toBe('margay');
  });
});

describe('margay objects from values', () => {
  it('default: one VXLAN-CrossSubnet pool and the default BGPConfiguration', () => {
    const r = render('default');
    expect(one(r, 'IPPool').spec).toEqual({ cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: true, disabled: false });
    expect(one(r, 'BGPConfiguration', 'default').spec).toEqual({ asNumber: 64512, nodeToNodeMeshEnabled: true, listenPort: 179, logSeverityScreen: 'Info' });
    expect(find(r, 'BGPPeer')).toEqual([]);
  });

  it('IPIP and VXLAN pools carry their modes', () => {
    expect(one(render('ipip'), 'IPPool').spec).toMatchObject({ ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true });
    expect(one(render('ipip'), 'IPPool').spec.blockSize).toBeUndefined();
    expect(one(render('vxlan'), 'IPPool').spec).toMatchObject({ ipipMode: 'Never', vxlanMode: 'Always', blockSize: 24 });
  });

  it('custom pools keep their selectors, sizes and disabled flag', () => {
    const pools = find(render('custom pools'), 'IPPool');
    expect(pools.map((p) => [p.metadata.name, p.spec.cidr, p.spec.blockSize, p.spec.disabled, p.spec.nodeSelector])).toEqual([
      ['blue', '10.70.0.0/16', 28, false, "zone == 'blue'"],
      ['green-v6', 'fd00:70::/56', 122, false, undefined],
      ['frozen', '10.71.0.0/24', 26, true, undefined],
    ]);
    expect(find(render('no pools, capabilities instead of privileged, own service account'), 'IPPool')).toEqual([]);
  });

  it('external peers become BGPPeers with secretKeyRef passwords; the mesh turns off', () => {
    const r = render('external peers with secrets');
    expect(find(r, 'BGPPeer').map((p) => [p.metadata.name, p.spec])).toEqual([
      ['tor-a', { nodeSelector: "rack == 'a'", peerIP: '192.168.1.1', asNumber: 65001, password: { secretKeyRef: { name: 'tor-a-bgp', key: 'password' } } }],
      ['tor-b', { node: 'node-b', peerIP: 'fd00::1', asNumber: 4294967295, keepOriginalNextHop: true, maxRestartTime: '120s', password: { secretKeyRef: { name: 'tor-b-bgp', key: 'pw' } } }],
      ['rr', { peerSelector: "route-reflector == 'true'" }],
    ]);
    expect(one(r, 'BGPConfiguration').spec).toEqual({
      asNumber: 4200000001, nodeToNodeMeshEnabled: false, listenPort: 179, logSeverityScreen: 'Info', serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
    });
  });

  it('names that read as numbers stay strings (a peer "65010", a pool "1e3", Secrets "12345" and "0x1f")', () => {
    const r = renderChart(CHART, {
      values: [{
        ipPools: [{ name: '1e3', cidr: '10.80.0.0/16' }],
        bgp: { peers: [
          { name: '65010', peerIP: '192.168.1.1', asNumber: 65010, password: { existingSecret: { name: '12345', key: '1' } } },
          { name: '0x1f', peerIP: '192.168.1.2', asNumber: 65011, password: { existingSecret: { name: '0x1f', key: 'pw' } } },
        ] },
      }],
    });
    expect(one(r, 'IPPool').metadata.name).toBe('1e3');
    const peers = find(r, 'BGPPeer');
    expect(peers.map((p) => p.metadata.name)).toEqual(['65010', '0x1f']);
    expect(peers.map((p) => p.spec.password.secretKeyRef)).toEqual([{ name: '12345', key: '1' }, { name: '0x1f', key: 'pw' }]);
    expect(one(r, 'Role').rules[0].resourceNames).toEqual(['0x1f', '12345']);
    expect(r.objects.flatMap((o) => kubernetesErrors(o.obj).map((e) => `${o.source}: ${e}`))).toEqual([]);
  });

  it('a numeric release name, namespace and service account name stay strings in names, labels and references', () => {
    const r = renderChart(CHART, { name: '65010', namespace: '1234', values: [{ serviceAccount: { create: true, name: '999' } }] });
    expect(r.objects.flatMap((o) => kubernetesErrors(o.obj).map((e) => `${o.source}: ${e}`))).toEqual([]);
    const ds = one(r, 'DaemonSet');
    expect(ds.metadata.name).toBe('65010-margay');
    expect(ds.metadata.namespace).toBe('1234');
    expect(ds.metadata.labels['app.kubernetes.io/instance']).toBe('65010');
    expect(ds.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('65010');
    expect(ds.spec.template.spec.serviceAccountName).toBe('999');
    expect(one(r, 'ServiceAccount').metadata.name).toBe('999');
    expect(one(r, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: '999', namespace: '1234' }]);
    for (const o of r.objects) {
      const meta = o.obj.metadata as Obj;
      expect(typeof meta.name, `${o.source} metadata.name`).toBe('string');
      if (meta.namespace !== undefined) expect(typeof meta.namespace, `${o.source} metadata.namespace`).toBe('string');
      for (const [k, v] of Object.entries(meta.labels ?? {})) expect(typeof v, `${o.source} label ${k}`).toBe('string');
    }
  });

  it('--set overrides values like helm', () => {
    const r = renderChart(CHART, { set: ['bgp.asNumber=65100', 'ipPools[0].vxlanMode=Always', 'logLevel=warn'] });
    expect(one(r, 'BGPConfiguration').spec).toMatchObject({ asNumber: 65100, logSeverityScreen: 'Warning' });
    expect(one(r, 'IPPool').spec.vxlanMode).toBe('Always');
  });
});

describe('Kubernetes version', () => {
  it('needs 1.31 or later (the CRDs use CEL\'s IP/CIDR library), and says so', () => {
    expect(() => renderChart(CHART, { kubeVersion: 'v1.30.4' })).toThrow(/chart requires kubeVersion: >=1.31.0-0 which is incompatible with Kubernetes v1.30.4/);
    expect(renderChart(CHART, { kubeVersion: 'v1.33.1' }).objects.length).toBeGreaterThan(5);
  });
});

describe('NOTES.txt', () => {
  it('tells what to check after install, with this release\'s names', () => {
    const notes = render('default').notes;
    expect(notes).toContain('kubectl -n kube-system get daemonset margay');
    expect(notes).toContain('pool default-ipv4: 10.244.0.0/16, IPIP Never, VXLAN CrossSubnet, NAT true');
    expect(notes).toContain('margay status');
    expect(notes).toContain('set rbac.readSecrets=true');
    expect(render('external peers with secrets').notes).toContain('node-to-node mesh OFF, AS 4200000001, 3 BGPPeer(s)');
  });

  it('no longer warns about privileged=false (pod wiring writes through /host/proc/sys/net)', () => {
    expect(render('no pools, capabilities instead of privileged, own service account').notes).not.toContain('WARNING');
    expect(render('default').notes).not.toContain('WARNING');
  });

  it('with bgp.enabled=false, points at the node\'s own speaker instead of BGP sessions', () => {
    const notes = renderChart(CHART, { values: [{ bgp: { enabled: false } }] }).notes;
    expect(notes).toContain('4. BGP is off (bgp.enabled=false)');
    // quotes what `margay status` really prints with --bgp off (agent/status/render.ts)
    expect(notes).toContain('"BGP is off (--bgp off)"');
    expect(notes).not.toContain('"bgp: off"');
    expect(notes).not.toContain('BGP sessions are Established');
    expect(notes).toContain('margay status');
    expect(render('default').notes).toContain('4. BGP sessions are Established');
  });
});
