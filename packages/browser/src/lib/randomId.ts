/**
 * Random ids from the tracer SDK's generator, which the agent ships anyway: 16 hex digits (a span id's
 * shape) for page views, 32 (a trace id's) for sessions. It uses Math.random, not the CSPRNG: these ids tell
 * sessions and views apart and grant nothing, so unpredictability is not needed.
 *
 *     pageViewId(); // 'a3f1…', 16 hex digits
 */
import { RandomIdGenerator } from '@opentelemetry/sdk-trace';

export const pageViewId = (): string => new RandomIdGenerator().generateSpanId();
export const sessionId = (): string => new RandomIdGenerator().generateTraceId();
