import { describe, expect, it } from 'vitest';
import { margay } from '../../../support/cli.js';

describe('margay agent / margay status on the command line (no root needed)', () => {
  it('--help documents every flag with its environment variable', () => {
    const r = margay(['agent', '--help']);
    expect(r.status).toBe(0);
    const flags = ['--node', '--datastore', '--datastore-dir', '--ipam-dir', '--kube-server', '--kubeconfig', '--secret-namespace', '--run-dir', '--cni-socket', '--status-socket',
      '--as-number', '--node-to-node-mesh', '--bgp-listen-port', '--bgp',
      '--health-port', '--health-address', '--uplink', '--node-address', '--bgp-sync-timeout', '--hold-time', '--restart-time', '--resync', '--ipam-gc-interval',
      '--iptables-backend', '--ip-forwarding', '--proc-sys', '--log-level'];
    for (const flag of flags) {
      expect(r.stdout, flag).toMatch(new RegExp(`^  ${flag} .*\\[[A-Z_, ]+\\]`, 'm'));
    }
    // and the list is complete: a new flag must be added above (and so get its variable)
    expect([...r.stdout.matchAll(/^  (--[a-z0-9-]+) /gm)].map((m) => m[1]).sort()).toEqual([...flags].sort());
  });

  it.each([
    [[], '--node NAME is required'],
    [['--node', 'n1'], '--datastore-dir DIR is required'],
    [['--node', 'n1', '--datastore', 'etcd'], '--datastore must be one of file, kubernetes'],
    [['--node', 'n1', '--datastore-dir', '/x', '--hold-time', '2'], '--hold-time must be 0 or at least 3'],
    [['--node', 'n1', '--datastore-dir', '/x', '--health-port', 'http'], '--health-port must be a whole number'],
    [['--node', 'n1', '--datastore-dir', '/x', '--node-address', 'fd00::1'], '--node-address must be an IPv4 address/prefix'],
    [['--node', 'n1', '--bogus'], 'unknown flag'],
    [['--node', 'n1', '--datastore-dir', '/x', '--node-to-node-mesh', 'yes'], '--node-to-node-mesh must be true or false'],
    [['--node', 'n1', '--datastore-dir', '/x', '--as-number', '0'], '--as-number must be an AS number, 1..4294967295 or AS-dot a.b'],
    [['--node', 'n1', '--datastore-dir', '/x', '--proc-sys', 'host/proc/sys'], '--proc-sys must be an absolute directory'],
  ])('agent %j is a usage error (exit 2): %s', (args, message) => {
    const r = margay(['agent', ...args], { env: { MARGAY_NODE: '', NODE_NAME: '', MARGAY_DATASTORE_DIR: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('--help shows --ip-forwarding with its values, default and variable, and the diagnostics variables', () => {
    const r = margay(['agent', '--help']);
    expect(r.stdout).toMatch(/^ {2}--ip-forwarding M +on\|ipv4\|off \(default on\) \[MARGAY_IP_FORWARDING\]/m);
    expect(r.stdout).toContain('MARGAY_DEFER_INPUTS_MS');
  });

  // --proc-sys names a missing directory: were the value not checked while parsing, the
  // agent would stop at start with exit 1 (and start nothing), not 2
  it.each([
    [['--ip-forwarding', 'yes'], {}, '--ip-forwarding must be on, ipv4 or off, got "yes"\n'],
    [[], { MARGAY_IP_FORWARDING: 'enabled' }, '--ip-forwarding must be on, ipv4 or off, got "enabled" (from MARGAY_IP_FORWARDING)'],
    [[], { MARGAY_IPTABLES_BACKEND: 'xtables' }, '--iptables-backend must be auto, nft or legacy, got "xtables" (from MARGAY_IPTABLES_BACKEND)'],
    [[], { MARGAY_DEFER_INPUTS_MS: 'soon' }, 'MARGAY_DEFER_INPUTS_MS must be a whole number of milliseconds'],
  ])('agent %j with env %j is a usage error (exit 2) naming the flag or variable', (args, env, message) => {
    const r = margay(['agent', '--node', 'n1', '--datastore-dir', '/nonexistent/margay', '--proc-sys', '/nonexistent/margay/proc/sys', '--health-port', '0', ...args],
      { env: { MARGAY_AGENT_V8_FLAGS: '0', MARGAY_IP_FORWARDING: '', MARGAY_IPTABLES_BACKEND: '', MARGAY_DEFER_INPUTS_MS: '', ...env } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('--proc-sys naming a directory without net/ipv4 stops the agent at start (exit 1), saying so', () => {
    const r = margay(['agent', '--node', 'n1', '--datastore-dir', '/nonexistent/margay', '--proc-sys', '/nonexistent/margay/proc/sys', '--health-port', '0'],
      { env: { MARGAY_AGENT_V8_FLAGS: '0', MARGAY_LOG_LEVEL: 'info' } });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('sysctl root has no net/ipv4');
  });

  it('flags fall back to the environment', () => {
    const r = margay(['agent'], { env: { MARGAY_NODE: 'n1', MARGAY_DATASTORE: 'file', MARGAY_DATASTORE_DIR: '', MARGAY_HOLD_TIME: '' } });
    expect(r.stderr).toContain('--datastore-dir DIR is required'); // the node came from MARGAY_NODE
  });

  it('status without an agent says so (exit 1); a bad flag is a usage error', () => {
    const r = margay(['status', '--socket', '/nonexistent/margay/agent.sock']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("is 'margay agent' running?");
    expect(margay(['status', '--timeout', 'soon']).status).toBe(2);
  });
});
