import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderChart } from '../../support/helm-render/render.js';
import { REPO_ROOT } from '../../support/cli.js';

// Runs the init container's install script from the rendered chart against a
// temporary "host", with a miniature /app holding the built margay-cni, then calls
// the installed plugin the way kubelet's runtime would (CNI_COMMAND=VERSION).
// Needs the build (npx tsc -p tsconfig.json).
const root = mkdtempSync(join(tmpdir(), 'margay-install-cni-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('install-cni.sh', () => {
  const bin = join(root, 'opt-cni-bin');
  const conf = join(root, 'etc-cni-net.d');
  const rendered = renderChart(join(REPO_ROOT, 'charts', 'margay'), {
    values: [{ cni: { binDir: bin, confDir: conf, conflistName: '10-margay.conflist', pluginConfig: {} } }],
  });
  const cm = rendered.objects.find((o) => o.obj.kind === 'ConfigMap')!.obj as { data: Record<string, string> };

  function install(): { status: number | null; stdout: string; stderr: string } {
    const app = join(root, 'app');
    rmSync(app, { recursive: true, force: true });
    const cniDist = join(REPO_ROOT, 'dist', 'agent', 'cni');
    expect(existsSync(join(cniDist, 'margay-cni.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
    cpSync(cniDist, join(app, 'dist', 'agent', 'cni'), { recursive: true });
    mkdirSync(join(app, 'node_modules'));
    mkdirSync(join(app, 'crds'));
    writeFileSync(join(app, 'package.json'), '{"type":"module"}\n');
    const cfg = join(root, 'etc-margay');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, 'cni-conflist'), cm.data['cni-conflist']!);
    writeFileSync(join(cfg, 'install-cni.sh'), cm.data['install-cni.sh']!);
    // `node` on PATH is a small launcher, so the test does not copy a 100 MB binary.
    const path = join(root, 'path');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'node'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$@"\n`);
    chmodSync(join(path, 'node'), 0o755);
    mkdirSync(bin, { recursive: true });
    mkdirSync(conf, { recursive: true });
    const r = spawnSync('/bin/sh', [join(cfg, 'install-cni.sh')], {
      env: { PATH: `${path}:/usr/bin:/bin`, HOST_CNI_BIN: bin, HOST_CNI_CONF: conf, MARGAY_APP_DIR: app, MARGAY_CONFIG_DIR: cfg },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('installs an executable margay-cni that answers VERSION, and the conflist', () => {
    const r = install();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed margay-cni into ${bin}`);
    expect(statSync(join(bin, 'margay-cni')).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(conf, '10-margay.conflist'), 'utf8')).toBe(cm.data['cni-conflist']);
    const v = spawnSync(join(bin, 'margay-cni'), [], { input: '{}', env: { CNI_COMMAND: 'VERSION' }, encoding: 'utf8', timeout: 30_000 });
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ cniVersion: '1.0.0', supportedVersions: expect.arrayContaining(['1.0.0']) });
  });

  it('re-runs (an upgrade) cleanly, leaving no temporary files behind', () => {
    const r = install();
    expect(r.status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual(['margay-cni', 'margay.d']);
    expect(readdirSync(conf)).toEqual(['10-margay.conflist']);
    expect(readdirSync(join(bin, 'margay.d')).sort()).toEqual(['crds', 'dist', 'node', 'node_modules', 'package.json']);
  });
});
