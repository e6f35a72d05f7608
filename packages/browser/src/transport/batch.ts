/**
 * Batches of finished spans, kept as OTLP/JSON text so their size is known exactly, they can be stored as
 * they are, and the body of a request is a concatenation rather than a second serialisation.
 *
 *     const batches = cutBatches(items, { maxSpans: 100, maxBytes: 30_000 });
 *     const body = batchBody(resourceJson, batches[0]);
 */

/** One finished span, serialised. */
export interface SpanItem {
  /** The OTLP `InstrumentationScope` as JSON: spans are grouped by it. */
  scope: string;
  /** The OTLP/JSON span. */
  span: string;
  /** UTF-8 length of `span`. */
  bytes: number;
}

export interface BatchLimits {
  maxSpans: number;
  /** Budget for the spans of one batch, in UTF-8 bytes. */
  maxBytes: number;
}

/** Splits items, in order, into batches within both limits. An item over `maxBytes` forms a batch alone. */
export function cutBatches(items: readonly SpanItem[], limits: BatchLimits): SpanItem[][] {
  const batches: SpanItem[][] = [];
  let batch: SpanItem[] = [];
  let bytes = 0;
  for (const item of items) {
    if (batch.length && (batch.length >= limits.maxSpans || bytes + item.bytes > limits.maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.bytes;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** An OTLP/JSON `ExportTraceServiceRequest` with one resource and the items grouped by scope. */
export function batchBody(resource: string, items: readonly SpanItem[]): string {
  const byScope = new Map<string, string[]>();
  for (const { scope, span } of items) {
    const spans = byScope.get(scope);
    if (spans) spans.push(span);
    else byScope.set(scope, [span]);
  }
  const scopeSpans = [...byScope].map(([scope, spans]) => `{"scope":${scope},"spans":[${spans.join(',')}]}`);
  return `{"resourceSpans":[{"resource":${resource},"scopeSpans":[${scopeSpans.join(',')}]}]}`;
}
