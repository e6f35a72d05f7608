/**
 * A small metrics registry that renders both Prometheus text (Node's `/metrics`) and OTLP/JSON metrics
 * (exported to the collector from both runtimes), from the same cumulative counters and histograms.
 *
 *     const registry = new MetricsRegistry({ maxSeriesPerMetric: 2000, startTimeMs: Date.now() });
 *     const requests = registry.counter({ name: 'rumkit.edge.requests', unit: '{request}', … });
 *     requests.add({ tenant: 'shop', outcome: 'accepted' });
 *
 * Metric names are given in OTLP form (dots, a UCUM unit); the Prometheus name is what the collector's
 * prometheusremotewrite exporter makes of them — dots to underscores, the unit's suffix (`_seconds`,
 * `_bytes`) unless the name already has it, `_total` on counters, units in braces dropped — so `/metrics`
 * and the remote-written series carry the same names. Each metric holds at most `maxSeriesPerMetric` label
 * sets per tenant; more are folded into one series whose labels other than `tenant` read `other`, so a sender
 * inventing routes or error types cannot grow memory without bound, nor fold other tenants' series. Label values
 * are cut to MAX_LABEL_LENGTH characters: senders name routes and services, and 2,000 series of 4 KB labels per
 * metric made each export hundreds of megabytes.
 */

export const MAX_LABEL_LENGTH = 128;

export interface MetricDefinition<L extends string> {
  /** OTLP name, such as `rumkit.edge.request.duration`. */
  name: string;
  /** UCUM unit: `s`, `By`, `1`, or an annotation in braces such as `{request}`. */
  unit: string;
  help: string;
  labels: readonly L[];
}

export interface HistogramDefinition<L extends string> extends MetricDefinition<L> {
  buckets: readonly number[];
}

type Labels<L extends string> = Record<L, string>;

interface Series {
  labels: string[];
  value: number;
  /** Histograms: count per bucket (non-cumulative, one more than the bounds), and the sum. */
  bucketCounts?: number[];
  sum?: number;
  /** A collector has received this series' zero point (see `toOtlp`). */
  announced?: boolean;
}

/** An OTLP/JSON metrics request, and what to call once the collector has taken it. */
export interface OtlpMetricsExport {
  request: unknown;
  delivered(): void;
}

type SeriesIndex = Map<string, SeriesIndex | Series>;

type Kind = 'counter' | 'histogram' | 'gauge';

interface Metric {
  kind: Kind;
  definition: MetricDefinition<string>;
  promName: string;
  series: Map<string, Series>;
  /** How many series each tenant has in it, for the cap. */
  seriesPerTenant: Map<string, number>;
  /**
   * The same series reached label by label (one map level per label, the series at the last), so that
   * finding an existing series builds no key string; series folded into `other` are not in it.
   */
  index: SeriesIndex;
  buckets?: readonly number[];
  read?: () => number;
}

export interface Counter<L extends string> {
  add(labels: Labels<L>, value?: number): void;
}

export interface Histogram<L extends string> {
  observe(labels: Labels<L>, value: number): void;
}

const UNIT_SUFFIXES: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes' };

/** The name the collector's prometheusremotewrite exporter gives an OTLP metric. */
export function prometheusName(name: string, unit: string, kind: Kind): string {
  const tokens = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const suffix = UNIT_SUFFIXES[unit];
  if (suffix && !tokens.includes(suffix)) tokens.push(suffix);
  if (kind === 'counter' && tokens[tokens.length - 1] !== 'total') tokens.push('total');
  return tokens.join('_');
}

export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  readonly #maxSeries: number;
  readonly #startTimeMs: number;

  constructor(options: { maxSeriesPerMetric: number; startTimeMs: number }) {
    this.#maxSeries = options.maxSeriesPerMetric;
    this.#startTimeMs = options.startTimeMs;
  }

  counter<L extends string>(definition: MetricDefinition<L>): Counter<L> {
    const metric = this.#register('counter', definition);
    return {
      add: (labels, value = 1) => {
        this.#series(metric, labels).value += value;
      },
    };
  }

  histogram<L extends string>(definition: HistogramDefinition<L>): Histogram<L> {
    const metric = this.#register('histogram', definition);
    metric.buckets = definition.buckets;
    return {
      observe: (labels, value) => {
        const series = this.#series(metric, labels);
        let i = 0;
        while (i < definition.buckets.length && value > (definition.buckets[i] as number)) i++;
        const counts = series.bucketCounts as number[];
        counts[i] = (counts[i] as number) + 1;
        series.value++;
        series.sum = (series.sum as number) + value;
      },
    };
  }

  /** A gauge read when rendered or exported (queue depth, circuit state). */
  gauge(definition: MetricDefinition<never>, read: () => number): void {
    this.#register('gauge', definition).read = read;
  }

  renderPrometheus(): string {
    const lines: string[] = [];
    for (const metric of this.#metrics) {
      const { promName, definition } = metric;
      lines.push(`# HELP ${promName} ${definition.help}`, `# TYPE ${promName} ${metric.kind}`);
      if (metric.read) lines.push(`${promName} ${formatNumber(metric.read())}`);
      for (const series of metric.series.values()) {
        const labels = definition.labels.map((name, i) => `${name}="${escapeLabel(series.labels[i] as string)}"`);
        if (metric.kind !== 'histogram') {
          lines.push(`${promName}${braces(labels)} ${formatNumber(series.value)}`);
          continue;
        }
        let cumulative = 0;
        (metric.buckets as number[]).forEach((bound, i) => {
          cumulative += (series.bucketCounts as number[])[i] as number;
          lines.push(`${promName}_bucket${braces([...labels, `le="${formatNumber(bound)}"`])} ${cumulative}`);
        });
        lines.push(`${promName}_bucket${braces([...labels, 'le="+Inf"'])} ${series.value}`);
        lines.push(`${promName}_sum${braces(labels)} ${formatNumber(series.sum as number)}`);
        lines.push(`${promName}_count${braces(labels)} ${series.value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  /**
   * Every metric as one OTLP/JSON ExportMetricsServiceRequest, cumulative since the registry started. A series
   * is born at its first increment, and Prometheus's `rate` and `increase` ignore a series' first sample: the
   * first burst of drops after a start (on Cloudflare, of each isolate) would never show. So until a collector
   * has taken one, a counter or histogram series goes with a zero point a millisecond before its value, as
   * Tempo's generator writes its own series.
   */
  toOtlp(resourceAttributes: Record<string, string>, nowMs: number): OtlpMetricsExport {
    const startTimeUnixNano = `${this.#startTimeMs}000000`;
    const timeUnixNano = `${nowMs}000000`;
    const zeroTimeUnixNano = `${nowMs - 1}000000`;
    const announcing: Series[] = [];
    /** Each series' point, after its zero point until one has been delivered. */
    const pointsOf = <P>(series: Series[], point: (s: Series, time: string, zero: boolean) => P): P[] =>
      series.flatMap((s) => {
        if (s.announced) return [point(s, timeUnixNano, false)];
        announcing.push(s);
        return [point(s, zeroTimeUnixNano, true), point(s, timeUnixNano, false)];
      });
    const metrics = this.#metrics.map((metric) => {
      const { definition } = metric;
      const attributes = (series: Series) =>
        definition.labels.map((key, i) => ({ key, value: { stringValue: series.labels[i] } }));
      const base = { name: definition.name, unit: definition.unit, description: definition.help };
      if (metric.kind === 'gauge') {
        return { ...base, gauge: { dataPoints: [{ timeUnixNano, asDouble: metric.read?.() ?? 0 }] } };
      }
      const series = [...metric.series.values()];
      if (metric.kind === 'counter') {
        const dataPoints = pointsOf(series, (s, time, zero) => ({
          attributes: attributes(s),
          startTimeUnixNano,
          timeUnixNano: time,
          asDouble: zero ? 0 : s.value,
        }));
        return { ...base, sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints } };
      }
      const dataPoints = pointsOf(series, (s, time, zero) => ({
        attributes: attributes(s),
        startTimeUnixNano,
        timeUnixNano: time,
        count: zero ? '0' : String(s.value),
        sum: zero ? 0 : s.sum,
        bucketCounts: (s.bucketCounts as number[]).map((count) => (zero ? '0' : String(count))),
        explicitBounds: metric.buckets,
      }));
      return { ...base, histogram: { aggregationTemporality: 2, dataPoints } };
    });
    const request = {
      resourceMetrics: [
        {
          resource: {
            attributes: Object.entries(resourceAttributes).map(([key, v]) => ({ key, value: { stringValue: v } })),
          },
          scopeMetrics: [{ scope: { name: '@rumkit/edge' }, metrics }],
        },
      ],
    };
    return {
      request,
      delivered: () => {
        for (const s of announcing) s.announced = true;
      },
    };
  }

  #register(kind: Kind, definition: MetricDefinition<string>): Metric {
    const metric: Metric = {
      kind,
      definition,
      promName: prometheusName(definition.name, definition.unit, kind),
      series: new Map(),
      seriesPerTenant: new Map(),
      index: new Map(),
    };
    this.#metrics.push(metric);
    return metric;
  }

  #series(metric: Metric, labels: Record<string, string>): Series {
    const names = metric.definition.labels;
    let level = metric.index;
    for (let i = 0; i < names.length; i++) {
      const next = level.get(labelValue(labels, names[i] as string));
      if (next === undefined) break;
      if (i === names.length - 1) return next as Series;
      level = next as SeriesIndex;
    }
    const series = this.#seriesByKey(metric, labels);
    // Only series with exactly these labels go into the index, so it never holds more than the cap.
    const folded = series.labels.some((value, i) => value !== labelValue(labels, names[i] as string));
    if (names.length && !folded) index(metric, series);
    return series;
  }

  /** Finds or makes the series by its joined labels, folding into `other` past the cap. */
  #seriesByKey(metric: Metric, labels: Record<string, string>): Series {
    let values = metric.definition.labels.map((name) => labelValue(labels, name));
    let key = values.join('\u0000');
    let series = metric.series.get(key);
    if (series) return series;
    const tenant = labels.tenant ?? '';
    const tenantSeries = metric.seriesPerTenant.get(tenant) ?? 0;
    if (tenantSeries >= this.#maxSeries) {
      values = metric.definition.labels.map((name) => (name === 'tenant' ? tenant : 'other'));
      key = values.join('\u0000');
      series = metric.series.get(key);
      if (series) return series;
    }
    metric.seriesPerTenant.set(tenant, tenantSeries + 1);
    series = { labels: values, value: 0 };
    if (metric.kind === 'histogram') {
      series.bucketCounts = new Array((metric.buckets?.length ?? 0) + 1).fill(0);
      series.sum = 0;
    }
    metric.series.set(key, series);
    return series;
  }
}

function labelValue(labels: Record<string, string>, name: string): string {
  const value = labels[name] ?? '';
  return value.length > MAX_LABEL_LENGTH ? value.slice(0, MAX_LABEL_LENGTH) : value;
}

/** Adds a series to its metric's index under its label values. */
function index(metric: Metric, series: Series): void {
  let level = metric.index;
  const last = series.labels.length - 1;
  for (let i = 0; i < last; i++) {
    const value = series.labels[i] as string;
    let next = level.get(value) as SeriesIndex | undefined;
    if (!next) {
      next = new Map();
      level.set(value, next);
    }
    level = next;
  }
  level.set(series.labels[last] as string, series);
}

function braces(labels: string[]): string {
  return labels.length ? `{${labels.join(',')}}` : '';
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
}
