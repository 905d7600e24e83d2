/**
 * A small metrics registry rendered in the Prometheus text exposition format
 * (version 0.0.4): counters, gauges (set whole, by label set) and histograms with
 * fixed buckets. Pure: values go in, text comes out; the agent owns the instance.
 */

export type Labels = Readonly<Record<string, string>>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
}

interface HistogramSeries {
  buckets: number[];
  sum: number;
  count: number;
}

/** Default latency buckets (seconds): 1 ms … 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const key = (labels: Labels): string => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra: [string, string][] = []): string {
  const all = [...Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)), ...extra];
  return all.length === 0 ? '' : `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function num(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly values = new Map<string, Map<string, { labels: Labels; value: number }>>();
  private readonly histograms = new Map<string, { bounds: number[]; series: Map<string, { labels: Labels; h: HistogramSeries }> }>();

  private declare(name: string, help: string, type: Family['type']): void {
    const f = this.families.get(name);
    if (f && f.type !== type) throw new Error(`metric ${name} is a ${f.type}, not a ${type}`);
    if (!f) this.families.set(name, { name, help, type });
  }

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    this.declare(name, help, 'counter');
    return (labels = {}, by = 1) => {
      const m = this.values.get(name) ?? new Map();
      this.values.set(name, m);
      const k = key(labels);
      const cur = m.get(k);
      m.set(k, { labels, value: (cur?.value ?? 0) + by });
    };
  }

  /** A gauge family whose whole set of series is replaced at once (e.g. sessions by state). */
  gauge(name: string, help: string): (series: { labels?: Labels; value: number }[]) => void {
    this.declare(name, help, 'gauge');
    return (series) => {
      const m = new Map<string, { labels: Labels; value: number }>();
      for (const s of series) m.set(key(s.labels ?? {}), { labels: s.labels ?? {}, value: s.value });
      this.values.set(name, m);
    };
  }

  histogram(name: string, help: string, bounds: number[] = LATENCY_BUCKETS): (value: number, labels?: Labels) => void {
    this.declare(name, help, 'histogram');
    const sorted = [...bounds].sort((a, b) => a - b);
    this.histograms.set(name, this.histograms.get(name) ?? { bounds: sorted, series: new Map() });
    return (value, labels = {}) => {
      const h = this.histograms.get(name)!;
      const k = key(labels);
      const s = h.series.get(k) ?? { labels, h: { buckets: h.bounds.map(() => 0), sum: 0, count: 0 } };
      h.series.set(k, s);
      h.bounds.forEach((b, i) => { if (value <= b) s.h.buckets[i]! += 1; });
      s.h.sum += value;
      s.h.count += 1;
    };
  }

  /** The current value of one counter or gauge series (tests, status). */
  value(name: string, labels: Labels = {}): number | undefined {
    return this.values.get(name)?.get(key(labels))?.value;
  }

  render(): string {
    const out: string[] = [];
    for (const f of [...this.families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      if (f.type === 'histogram') {
        const h = this.histograms.get(f.name);
        for (const { labels, h: s } of h?.series.values() ?? []) {
          h!.bounds.forEach((b, i) => out.push(`${f.name}_bucket${labelText(labels, [['le', num(b)]])} ${s.buckets[i]}`));
          out.push(`${f.name}_bucket${labelText(labels, [['le', '+Inf']])} ${s.count}`);
          out.push(`${f.name}_sum${labelText(labels)} ${num(s.sum)}`);
          out.push(`${f.name}_count${labelText(labels)} ${s.count}`);
        }
      } else {
        for (const { labels, value } of this.values.get(f.name)?.values() ?? []) out.push(`${f.name}${labelText(labels)} ${num(value)}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
