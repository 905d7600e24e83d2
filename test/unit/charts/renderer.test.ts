import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { renderChart, RenderError, helmRenderBinary } from '../../support/helm-render/render.js';
import { REPO_ROOT } from '../../support/cli.js';

// The first run builds the Go renderer (cached by source hash): allow for it.
beforeAll(() => {
  helmRenderBinary();
}, 300_000);

// The renderer against a small chart exercising each Helm feature margay's chart uses.
const MINI = join(REPO_ROOT, 'test', 'unit', 'charts', 'fixtures', 'mini');

const data = (opts: Parameters<typeof renderChart>[1] = {}) => {
  const r = renderChart(MINI, { name: 'rel', namespace: 'ns1', ...opts });
  expect(r.objects).toHaveLength(1);
  return r.objects[0]!.obj as { metadata: { name: string; labels: Record<string, string> }; data: Record<string, string> };
};

describe('helm-render', () => {
  it('provides .Release, .Chart, include + nindent, .Capabilities, .Files, .Template', () => {
    const cm = data();
    expect(cm.metadata).toEqual({ name: 'rel-mini', labels: { chart: 'mini-1.2.3', app: '9.9' } });
    expect(cm.data).toMatchObject({
      hasApps: 'true', hasNope: 'false', minor: '31', file: 'file contents', template: 'mini/templates/cm.yaml',
    });
  });

  it('treats numbers in values files as JSON numbers, like helm (so charts must use int64), and toYaml prints them whole', () => {
    const cm = data();
    expect(cm.data.raw).toBe('4.294967295e+09');
    expect(cm.data.int).toBe('4294967295');
    expect(cm.data.nested).toBe('asn: 4294967295\nkeep: yes-kept\nlist:\n  - a\n  - b\n');
  });

  it('renders a missing value as empty, tpl with the chart context, required when present', () => {
    const cm = data();
    expect(cm.data.missing).toBe('');
    expect(cm.data.tpl).toBe('release rel in ns1');
    expect(cm.data.required).toBe('present');
  });

  it('merges -f values deeply (lists replaced) and types --set values', () => {
    const cm = data({ values: [{ nested: { list: ['z'] } }], set: ['setme=5'] });
    expect(cm.data.nested).toBe('asn: 4294967295\nkeep: yes-kept\nlist:\n  - z\n');
    expect(cm.data.setInt).toBe('int64');
    expect(data({ set: ['setme=true'] }).data.setInt).toBe('bool');
    expect(data({ set: ['setme=text'] }).data.setInt).toBe('string');
  });

  it('fails with required\'s message, and null in a values file deletes a default', () => {
    expect(() => renderChart(MINI, { values: [{ needed: null }] })).toThrow(/needed is required/);
    expect(() => renderChart(MINI, { set: ['needed='] })).toThrow(RenderError);
  });

  it('renders NOTES.txt separately', () => {
    expect(renderChart(MINI, { name: 'rel' }).notes).toBe('notes for rel\n');
  });

  it('does not offer env (helm removes it), so a chart using it fails to parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-mini-'));
    try {
      cpSync(MINI, dir, { recursive: true });
      writeFileSync(join(dir, 'templates', 'bad.yaml'), 'x: {{ env "HOME" }}\n');
      expect(() => renderChart(dir)).toThrow(/function "env" not defined/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
