/**
 * Validate: makes the decoded body a clean OTLP request within the configured limits
 * (`@rumkit/otlp`'s validateTraceRequest does the work), dropping bad spans one by one.
 *
 *     const checked = validate(decoded.request, config.limits, edgeNowMs + skewMs);
 *
 * Timestamps are judged on the sender's clock (the edge's clock plus the measured skew), so a browser
 * whose clock is an hour off loses no spans here; the enrich stage moves them onto the edge's clock.
 */
import {
  DEFAULT_VALIDATION_LIMITS,
  ValidationError,
  type ValidationLimits,
  type ValidationResult,
  validateTraceRequest,
} from '@rumkit/otlp';
import type { EdgeConfig } from '../config.ts';
import { type Rejection, reject } from './rejection.ts';

export function validationLimits(limits: EdgeConfig['limits']): ValidationLimits {
  return {
    ...DEFAULT_VALIDATION_LIMITS,
    maxSpans: limits.maxSpansPerBatch,
    maxAttributes: limits.maxAttributes,
    maxAttributeValueLength: limits.maxAttributeValueLength,
    maxDepth: limits.maxDepth,
    maxFutureMs: limits.maxFutureSeconds * 1000,
    maxAgeMs: limits.maxAgeHours * 3600_000,
  };
}

export function validate(
  request: unknown,
  limits: ValidationLimits,
  senderNowMs: number,
): ValidationResult | Rejection {
  try {
    return validateTraceRequest(request, limits, senderNowMs);
  } catch (error) {
    if (error instanceof ValidationError) return reject('invalid', error.message);
    throw error;
  }
}

/** The OTLP/HTTP partial-success message for spans the stages dropped. */
export function partialSuccessMessage(result: ValidationResult): string {
  return result.rejectedSpans ? `${result.rejectedSpans} spans rejected: ${result.errors.join('; ')}` : '';
}
