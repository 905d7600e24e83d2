import { describe, expect, it } from 'vitest';
import { agentSettingsFrom } from '../../../../agent/cli/commands/agent.js';
import { UsageError } from '../../../../agent/cli/usage-error.js';

// The parse alone (no agent starts): argv and the environment in, settings or a UsageError out.
const BASE = { MARGAY_NODE: 'n1', MARGAY_DATASTORE_DIR: '/nonexistent/margay' };
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof agentSettingsFrom> => agentSettingsFrom(argv, { ...BASE, ...env });

async function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<UsageError> {
  const err = await parse(argv, env).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('agentSettingsFrom: --ip-forwarding / MARGAY_IP_FORWARDING', () => {
  it('defaults to on (flag and variable unset, or the variable empty)', async () => {
    expect((await parse([])).ipForwarding).toBe('on');
    expect((await parse([], { MARGAY_IP_FORWARDING: '' })).ipForwarding).toBe('on');
  });

  it.each(['on', 'ipv4', 'off'] as const)('takes %s from the flag and from the variable', async (mode) => {
    expect((await parse(['--ip-forwarding', mode])).ipForwarding).toBe(mode);
    expect((await parse([], { MARGAY_IP_FORWARDING: mode })).ipForwarding).toBe(mode);
  });

  it('the flag wins over the variable', async () => {
    expect((await parse(['--ip-forwarding', 'off'], { MARGAY_IP_FORWARDING: 'ipv4' })).ipForwarding).toBe('off');
  });

  it('a bad flag value is a usage error naming the flag, the value and the choices', async () => {
    const err = await usageError(['--ip-forwarding', 'yes']);
    expect(err.message).toBe('--ip-forwarding must be on, ipv4 or off, got "yes"');
    expect(err.usage).toContain('--ip-forwarding');
  });

  it('a bad variable is a usage error that also names the variable', async () => {
    const err = await usageError([], { MARGAY_IP_FORWARDING: 'enabled' });
    expect(err.message).toBe('--ip-forwarding must be on, ipv4 or off, got "enabled" (from MARGAY_IP_FORWARDING)');
  });
});

describe('agentSettingsFrom: --iptables-backend / MARGAY_IPTABLES_BACKEND', () => {
  it('defaults to auto; the variable stands in for the flag', async () => {
    expect((await parse([])).iptablesBackend).toBe('auto');
    expect((await parse([], { MARGAY_IPTABLES_BACKEND: 'legacy' })).iptablesBackend).toBe('legacy');
    expect((await parse(['--iptables-backend', 'nft'], { MARGAY_IPTABLES_BACKEND: 'legacy' })).iptablesBackend).toBe('nft');
  });

  it('a bad value is a usage error naming where it came from', async () => {
    expect((await usageError(['--iptables-backend', 'iptables'])).message).toBe('--iptables-backend must be auto, nft or legacy, got "iptables"');
    expect((await usageError([], { MARGAY_IPTABLES_BACKEND: 'xtables' })).message)
      .toBe('--iptables-backend must be auto, nft or legacy, got "xtables" (from MARGAY_IPTABLES_BACKEND)');
  });
});

describe('agentSettingsFrom: diagnostics from the environment only', () => {
  it('MARGAY_DEFER_INPUTS_MS: unset or empty leaves the default; a whole number of ms is taken', async () => {
    expect((await parse([])).deferInputsMs).toBeUndefined();
    expect((await parse([], { MARGAY_DEFER_INPUTS_MS: '' })).deferInputsMs).toBeUndefined();
    expect((await parse([], { MARGAY_DEFER_INPUTS_MS: '0' })).deferInputsMs).toBe(0);
    expect((await parse([], { MARGAY_DEFER_INPUTS_MS: '25' })).deferInputsMs).toBe(25);
  });

  it.each(['abc', '3ms', '-1', '1.5', '0x10', '1e3', ' ', '60001'])('MARGAY_DEFER_INPUTS_MS=%j is a usage error naming the variable', async (text) => {
    const err = await usageError([], { MARGAY_DEFER_INPUTS_MS: text });
    expect(err.message).toContain('MARGAY_DEFER_INPUTS_MS');
    expect(err.message).toContain(`got "${text}"`);
  });

  it('MARGAY_FAST_ROUTES=0 / MARGAY_FAST_WARM=0 turn those paths off; anything else leaves them on', async () => {
    expect(await parse([])).toMatchObject({ fastRoutes: true, fastWarm: true });
    expect(await parse([], { MARGAY_FAST_ROUTES: '0' })).toMatchObject({ fastRoutes: false, fastWarm: true });
    expect(await parse([], { MARGAY_FAST_WARM: '0' })).toMatchObject({ fastRoutes: true, fastWarm: false });
    expect(await parse([], { MARGAY_FAST_ROUTES: '1', MARGAY_FAST_WARM: '' })).toMatchObject({ fastRoutes: true, fastWarm: true });
  });
});

describe('agentSettingsFrom: the rest of the settings keep their defaults and fallbacks', () => {
  it('defaults with only the node and the datastore directory given', async () => {
    expect(await parse([])).toMatchObject({
      node: 'n1', datastore: 'file', datastoreDir: '/nonexistent/margay', bgp: 'on', iptablesBackend: 'auto',
      secretNamespace: 'kube-system', cniSocket: '/run/margay/cni.sock', statusSocket: '/run/margay/agent.sock',
      healthPort: 9099, healthAddress: '127.0.0.1', syncBoundMs: 10_000, holdTime: 90, restartTime: 120, resyncMs: 30_000,
    });
  });

  it('reads nothing from process.env: the environment given is the only one', async () => {
    const err = await agentSettingsFrom([], {}).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('--node NAME is required');
  });
});

describe('agentSettingsFrom: every setting with a variable names it when its value is bad', () => {
  it.each([
    ['MARGAY_BGP_HOLD_TIME', 'x', '--hold-time must be a whole number, got "x"'],
    ['MARGAY_BGP_HOLD_TIME', '2', '--hold-time must be 0 or at least 3'],
    ['MARGAY_HEALTH_PORT', '70000', '--health-port must be between 0 and 65535, got 70000'],
    ['MARGAY_DATASTORE', 'etcd', '--datastore must be one of file, kubernetes, got "etcd"'],
    ['MARGAY_BGP_NODE_TO_NODE_MESH', 'yes', '--node-to-node-mesh must be true or false, got "yes"'],
    ['MARGAY_BGP_AS_NUMBER', '0', '--as-number must be an AS number, 1..4294967295 or AS-dot a.b (each part 0..65535), got "0"'],
    ['MARGAY_BGP_AS_NUMBER', '65536.1', '--as-number must be an AS number, 1..4294967295 or AS-dot a.b (each part 0..65535), got "65536.1"'],
    ['MARGAY_BGP_LISTEN_PORT', 'bgp', '--bgp-listen-port must be a whole number, got "bgp"'],
    ['MARGAY_BGP_SYNC_TIMEOUT', '-1', '--bgp-sync-timeout must be a whole number, got "-1"'],
    ['MARGAY_BGP_RESTART_TIME', '5000', '--restart-time must be between 1 and 4095, got 5000'],
    ['MARGAY_RESYNC', '10', '--resync must be between 100 and 86400000, got 10'],
    ['MARGAY_IPAM_GC_INTERVAL', '1s', '--ipam-gc-interval must be a whole number, got "1s"'],
    ['MARGAY_NODE_ADDRESS', 'fd00::1', '--node-address must be an IPv4 address/prefix like 10.0.0.5/24, got "fd00::1"'],
    ['MARGAY_PROC_SYS', 'proc/sys', '--proc-sys must be an absolute directory, got "proc/sys"'],
  ])('%s=%s', async (name, value, message) => {
    const err = await usageError([], { [name]: value });
    expect(err.message).toBe(`${message} (from ${name})`);
    expect(err.usage).toContain('--node NAME');
  });

  it('the same value given as the flag names only the flag', async () => {
    expect((await usageError(['--hold-time', 'x'])).message).toBe('--hold-time must be a whole number, got "x"');
    expect((await usageError(['--node-to-node-mesh', 'yes'])).message).toBe('--node-to-node-mesh must be true or false, got "yes"');
  });

  it('good values from the variables are taken', async () => {
    expect((await parse(['--as-number', '65000.100'])).bgpDefaults).toEqual({ asn: 4259840100 }); // AS-dot, as the CRDs and annotations take it
    const s = await parse([], { MARGAY_BGP_HOLD_TIME: '9', MARGAY_BGP_NODE_TO_NODE_MESH: 'false', MARGAY_BGP_AS_NUMBER: '65001', MARGAY_BGP_LISTEN_PORT: '1179', MARGAY_IPAM_GC_INTERVAL: '0' });
    expect(s.holdTime).toBe(9);
    expect(s.bgpDefaults).toEqual({ asn: 65001, meshEnabled: false, listenPort: 1179 });
    expect(s.ipamGcMs).toBe(0);
  });
});
