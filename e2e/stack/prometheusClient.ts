/**
 * PromQL queries against Prometheus' HTTP API, instant and over a range.
 *
 *   await queryScalar(url, 'sum(traces_service_graph_request_total{client="web"})'); // number | undefined
 *   await queryVector(url, 'traces_service_graph_request_total');                    // [{ metric, value }]
 *   await queryRange(url, 'rate(up[1m])', { startSeconds, endSeconds, stepSeconds }); // [{ metric, values }]
 */

export type Sample = {
  metric: Record<string, string>;
  value: number;
};

export type RangeSeries = {
  metric: Record<string, string>;
  values: number[];
};

type QueryResponse = {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: 'vector' | 'scalar' | 'matrix' | 'string'; result: unknown };
};

export async function queryVector(baseUrl: string, promql: string): Promise<Sample[]> {
  return vectorSamples(promql, await query(baseUrl, promql));
}

/** The single value of a query, or undefined when it matches nothing (yet). Several series are an error: aggregate them. */
export async function queryScalar(baseUrl: string, promql: string): Promise<number | undefined> {
  const data = await query(baseUrl, promql);
  if (data.resultType === 'scalar') return Number((data.result as [number, string])[1]);
  const samples = vectorSamples(promql, data);
  if (samples.length > 1)
    throw new Error(`${promql} returned ${samples.length} series; wrap it in sum() or narrow the selector`);
  return samples[0]?.value;
}

function vectorSamples(promql: string, data: NonNullable<QueryResponse['data']>): Sample[] {
  if (data.resultType !== 'vector') throw new Error(`expected a vector from ${promql}, got ${data.resultType}`);
  return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(({ metric, value }) => ({
    metric,
    value: Number(value[1]),
  }));
}

/** What a graph of the expression shows between two instants, one value per step. */
export async function queryRange(
  baseUrl: string,
  promql: string,
  range: { startSeconds: number; endSeconds: number; stepSeconds: number },
): Promise<RangeSeries[]> {
  const params = {
    start: String(range.startSeconds),
    end: String(range.endSeconds),
    step: String(range.stepSeconds),
  };
  const data = await query(baseUrl, promql, 'query_range', params);
  if (data.resultType !== 'matrix') throw new Error(`expected a matrix from ${promql}, got ${data.resultType}`);
  return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map(
    ({ metric, values }) => ({
      metric,
      values: values.map(([, value]) => Number(value)),
    }),
  );
}

async function query(
  baseUrl: string,
  promql: string,
  endpoint: 'query' | 'query_range' = 'query',
  params: Record<string, string> = {},
): Promise<NonNullable<QueryResponse['data']>> {
  const response = await fetch(`${baseUrl}/api/v1/${endpoint}?${new URLSearchParams({ query: promql, ...params })}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as QueryResponse;
  if (body.status !== 'success' || !body.data)
    throw new Error(`query ${promql}: ${body.error ?? `HTTP ${response.status}`}`);
  return body.data;
}
