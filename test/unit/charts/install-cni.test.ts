import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderChart } from '../../support/helm-render/render.js';
import { REPO_ROOT } from '../../support/cli.js';
import { GO_CNI_BIN } from '../../../agent/cni/plugin-path.js';

// Runs the init container's install script from the rendered chart against a
// temporary "host", with a miniature /app holding the built margay-cni (the static
// Go binary, as the image has it), then calls the installed plugin the way
// kubelet's runtime would (CNI_COMMAND=VERSION).
// Needs the build (npm run build, with Go: dist/bin/margay-cni).
const root = mkdtempSync(join(tmpdir(), 'margay-install-cni-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const built = existsSync(GO_CNI_BIN);

describe.runIf(built)(`install-cni.sh${built ? '' : ` (skipped: ${GO_CNI_BIN} not built; npm run build with golang-go installed)`}`, () => {
  const bin = join(root, 'opt-cni-bin');
  const conf = join(root, 'etc-cni-net.d');
  const rendered = renderChart(join(REPO_ROOT, 'charts', 'margay'), {
    values: [{ cni: { binDir: bin, confDir: conf, conflistName: '10-margay.conflist', pluginConfig: {} } }],
  });
  const cm = rendered.objects.find((o) => o.obj.kind === 'ConfigMap')!.obj as { data: Record<string, string> };

  function install(): { status: number | null; stdout: string; stderr: string } {
    const app = join(root, 'app');
    rmSync(app, { recursive: true, force: true });
    mkdirSync(join(app, 'dist', 'bin'), { recursive: true });
    copyFileSync(GO_CNI_BIN, join(app, 'dist', 'bin', 'margay-cni'));
    const cfg = join(root, 'etc-margay');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, 'cni-conflist'), cm.data['cni-conflist']!);
    writeFileSync(join(cfg, 'install-cni.sh'), cm.data['install-cni.sh']!);
    mkdirSync(bin, { recursive: true });
    mkdirSync(conf, { recursive: true });
    const r = spawnSync('/bin/sh', [join(cfg, 'install-cni.sh')], {
      env: { PATH: '/usr/bin:/bin', HOST_CNI_BIN: bin, HOST_CNI_CONF: conf, MARGAY_APP_DIR: app, MARGAY_CONFIG_DIR: cfg },
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

  it('re-runs (an upgrade) cleanly, leaving no temporary files behind, and removes what earlier versions installed', () => {
    mkdirSync(join(bin, 'margay.d', 'dist'), { recursive: true }); // the Node runtime + build of versions before the Go plugin
    writeFileSync(join(bin, 'portmap'), 'another plugin');
    const r = install();
    expect(r.status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual(['margay-cni', 'portmap']);
    expect(readFileSync(join(bin, 'portmap'), 'utf8')).toBe('another plugin');
    expect(readdirSync(conf)).toEqual(['10-margay.conflist']);
  });

  it('refuses clearly when the image lacks the plugin', () => {
    rmSync(join(root, 'app', 'dist', 'bin', 'margay-cni'));
    const r = spawnSync('/bin/sh', [join(root, 'etc-margay', 'install-cni.sh')], {
      env: { PATH: '/usr/bin:/bin', HOST_CNI_BIN: bin, HOST_CNI_CONF: conf, MARGAY_APP_DIR: join(root, 'app'), MARGAY_CONFIG_DIR: join(root, 'etc-margay') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dist\/bin\/margay-cni is missing from the image/);
  });
});
