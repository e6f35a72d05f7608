/** OTLP timestamps (decimal nanoseconds since the epoch, beyond a double's precision) as milliseconds. */
export function nanosToMs(nanos: string): number {
  return Number(BigInt(nanos) / 1000n) / 1000;
}
