import { describe, expect, it } from 'vitest';
import { FIXTURE_NOW_MS, testConfig, typicalBatch } from '../testing/config.ts';
import { partialSuccessMessage, validate, validationLimits } from './validate.ts';

const limits = validationLimits(testConfig({ limits: { maxSpansPerBatch: 40, maxFutureSeconds: 60 } }).limits);

describe('validate', () => {
  it('applies the configured limits and explains what it dropped', () => {
    const result = validate(typicalBatch(), limits, FIXTURE_NOW_MS);
    if ('rejected' in result) throw new Error(result.message);
    expect(result.acceptedSpans).toBe(40);
    expect(partialSuccessMessage(result)).toBe('10 spans rejected: more than 40 spans in one request');
  });

  it('judges timestamps on the sender clock, so a skewed browser loses nothing here', () => {
    const anHourAhead = FIXTURE_NOW_MS - 3600_000; // the edge's clock when the browser's runs an hour ahead
    const onEdgeClock = validate(typicalBatch(), limits, anHourAhead);
    expect(onEdgeClock).toMatchObject({ acceptedSpans: 0 });
    expect(validate(typicalBatch(), limits, anHourAhead + 3600_000)).toMatchObject({ acceptedSpans: 40 });
  });

  it('turns a malformed envelope into a 400 naming the problem', () => {
    expect(validate({ resourceSpans: 'x' }, limits, FIXTURE_NOW_MS)).toMatchObject({
      status: 400,
      message: 'resourceSpans must be an array',
    });
  });
});
