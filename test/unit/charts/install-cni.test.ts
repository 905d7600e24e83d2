import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderChart } from '../../support/helm-render/render.js';
import { REPO_ROOT } from '../../support/cli.js';
import { GO_CNI_BIN } from '../../../agent/cni/plugin-path.js';

// Runs the init container's install script from the rendered chart against a
// temporary "host", with a miniature /app holding the built margay-cni (the static
// Go binary, as the image has it), then calls the installed plugin the way
// kubelet's runtime would (CNI_COMMAND=VERSION). The image's portmap and bandwidth
// plugins (Debian's, in the real image) are stand-in scripts here: what is under test
// is which files the script copies, and that it never replaces a host's own.
// Needs the build (npm run build, with Go: dist/bin/margay-cni).
const root = mkdtempSync(join(tmpdir(), 'margay-install-cni-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const built = existsSync(GO_CNI_BIN);

describe.runIf(built)(`install-cni.sh${built ? '' : ` (skipped: ${GO_CNI_BIN} not built; npm run build with golang-go installed)`}`, () => {
  const IMAGE_PORTMAP = '#!/bin/sh\necho image-portmap\n';
  const IMAGE_BANDWIDTH = '#!/bin/sh\necho image-bandwidth\n';
  const rendered = (host: string, values: Record<string, unknown> = {}): Record<string, string> => {
    const r = renderChart(join(REPO_ROOT, 'charts', 'margay'), {
      values: [{ cni: { binDir: join(host, 'bin'), confDir: join(host, 'conf'), conflistName: '10-margay.conflist', pluginConfig: {} } }, values],
    });
    return (r.objects.find((o) => o.obj.kind === 'ConfigMap')!.obj as { data: Record<string, string> }).data;
  };
  const bin = join(root, 'host', 'bin');
  const conf = join(root, 'host', 'conf');
  const cm = rendered(join(root, 'host'));

  /** A fresh host directory (bin/ holding `existing`), or the shared one when name is omitted. */
  function host(name?: string, existing: Record<string, string> = {}): string {
    if (name === undefined) return join(root, 'host');
    const h = join(root, name);
    mkdirSync(join(h, 'bin'), { recursive: true });
    for (const [file, content] of Object.entries(existing)) {
      writeFileSync(join(h, 'bin', file), content);
      chmodSync(join(h, 'bin', file), 0o755);
    }
    return h;
  }

  function install(h = host(), data = cm, image: string[] = ['margay-cni', 'portmap', 'bandwidth']): { status: number | null; stdout: string; stderr: string } {
    const app = join(root, 'app');
    rmSync(app, { recursive: true, force: true });
    mkdirSync(join(app, 'dist', 'bin'), { recursive: true });
    if (image.includes('margay-cni')) copyFileSync(GO_CNI_BIN, join(app, 'dist', 'bin', 'margay-cni'));
    for (const [p, content] of [['portmap', IMAGE_PORTMAP], ['bandwidth', IMAGE_BANDWIDTH]] as const) {
      if (!image.includes(p)) continue;
      writeFileSync(join(app, 'dist', 'bin', p), content);
      chmodSync(join(app, 'dist', 'bin', p), 0o755);
    }
    const cfg = join(root, 'etc-margay');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, 'cni-conflist'), data['cni-conflist']!);
    writeFileSync(join(cfg, 'install-cni.sh'), data['install-cni.sh']!);
    mkdirSync(join(h, 'bin'), { recursive: true });
    mkdirSync(join(h, 'conf'), { recursive: true });
    const r = spawnSync('/bin/sh', [join(cfg, 'install-cni.sh')], {
      env: { PATH: '/usr/bin:/bin', HOST_CNI_BIN: join(h, 'bin'), HOST_CNI_CONF: join(h, 'conf'), MARGAY_APP_DIR: app, MARGAY_CONFIG_DIR: cfg },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('installs an executable margay-cni that answers VERSION, the chained portmap and bandwidth the host lacks, and the conflist', () => {
    const r = install();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed margay-cni into ${bin}`);
    expect(r.stdout).toContain(`installed portmap into ${bin}`);
    expect(r.stdout).toContain(`installed bandwidth into ${bin}`);
    expect(statSync(join(bin, 'margay-cni')).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(conf, '10-margay.conflist'), 'utf8')).toBe(cm['cni-conflist']);
    const v = spawnSync(join(bin, 'margay-cni'), [], { input: '{}', env: { CNI_COMMAND: 'VERSION' }, encoding: 'utf8', timeout: 30_000 });
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ cniVersion: '1.0.0', supportedVersions: expect.arrayContaining(['1.0.0']) });
    expect(readFileSync(join(bin, 'portmap'), 'utf8')).toBe(IMAGE_PORTMAP);
    expect(readFileSync(join(bin, 'bandwidth'), 'utf8')).toBe(IMAGE_BANDWIDTH);
    for (const p of ['portmap', 'bandwidth']) expect(statSync(join(bin, p)).mode & 0o777, p).toBe(0o755);
  });

  it('re-runs (an upgrade) cleanly, leaving no temporary files behind, and removes what earlier versions installed', () => {
    mkdirSync(join(bin, 'margay.d', 'dist'), { recursive: true }); // the Node runtime + build of versions before the Go plugin
    writeFileSync(join(bin, 'portmap'), 'another plugin');
    const r = install();
    expect(r.status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual(['bandwidth', 'margay-cni', 'portmap']);
    expect(readFileSync(join(bin, 'portmap'), 'utf8')).toBe('another plugin');
    expect(readdirSync(conf)).toEqual(['10-margay.conflist']);
  });

  it('never replaces a host\'s own portmap or bandwidth (a file, or a symlink even if dangling); installs only what is missing', () => {
    const h = host('own-portmap', { portmap: 'host portmap v1.6' });
    symlinkSync('/nonexistent/bandwidth', join(h, 'bin', 'bandwidth'));
    const r = install(h);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(h, 'bin', 'portmap'), 'utf8')).toBe('host portmap v1.6');
    expect(statSync(join(h, 'bin', 'portmap')).mode & 0o777).toBe(0o755);
    expect(r.stdout).toContain('portmap: the host has one already; left as it is');
    expect(r.stdout).toContain('bandwidth: the host has one already; left as it is');
    expect(readdirSync(join(h, 'bin')).sort()).toEqual(['bandwidth', 'margay-cni', 'portmap']);
    const h2 = host('own-bandwidth', { bandwidth: 'host bandwidth' });
    expect(install(h2).status).toBe(0);
    expect(readFileSync(join(h2, 'bin', 'bandwidth'), 'utf8')).toBe('host bandwidth');
    expect(readFileSync(join(h2, 'bin', 'portmap'), 'utf8')).toBe(IMAGE_PORTMAP);
  });

  it('installs no chained plugin the conflist does not use (cni.portmap/bandwidth.enabled=false)', () => {
    const h = host('no-portmap');
    const r = install(h, rendered(h, { cni: { portmap: { enabled: false } } }));
    expect(r.status).toBe(0);
    expect(readdirSync(join(h, 'bin')).sort()).toEqual(['bandwidth', 'margay-cni']);
    const h2 = host('none-chained');
    expect(install(h2, rendered(h2, { cni: { portmap: { enabled: false }, bandwidth: { enabled: false } } })).status).toBe(0);
    expect(readdirSync(join(h2, 'bin')).sort()).toEqual(['margay-cni']);
  });

  it('an image without a chained plugin: fine when the host has it, a clear failure (nothing installed) when neither has it', () => {
    const h = host('image-lacks-bandwidth', { bandwidth: 'host bandwidth' });
    expect(install(h, cm, ['margay-cni', 'portmap']).status).toBe(0);
    expect(readFileSync(join(h, 'bin', 'bandwidth'), 'utf8')).toBe('host bandwidth');
    const h2 = host('neither-has-bandwidth');
    const r = install(h2, cm, ['margay-cni', 'portmap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`install-cni: bandwidth is missing from the image (${join(root, 'app')}/dist/bin/bandwidth) and the host has none in ${join(h2, 'bin')}; the conflist chains it`);
    expect(readdirSync(join(h2, 'bin'))).toEqual([]);
    expect(readdirSync(join(h2, 'conf'))).toEqual([]);
  });

  it('refuses clearly when the image lacks the plugin', () => {
    const r = install(host('no-margay-cni'), cm, ['portmap', 'bandwidth']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dist\/bin\/margay-cni is missing from the image/);
  });
});
