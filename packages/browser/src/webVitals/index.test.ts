import { describe, expect, it } from 'vitest';
import type { MetricWithAttribution } from 'web-vitals/attribution';
import { webVitalAttributes } from './index.ts';

describe('webVitalAttributes', () => {
  it('names the semconv attributes and flattens the attribution to snake_case, skipping objects', () => {
    const metric = {
      name: 'INP',
      value: 180,
      rating: 'needs-improvement',
      delta: 180,
      id: 'v5-1',
      navigationType: 'navigate',
      entries: [],
      attribution: {
        interactionTarget: 'button#buy',
        interactionType: 'pointer',
        inputDelay: 12.5,
        firstByteToFCP: 40,
        processedEventEntries: [],
      },
    } as unknown as MetricWithAttribution;
    expect(webVitalAttributes(metric)).toEqual({
      'browser.web_vital.name': 'INP',
      'browser.web_vital.value': 180,
      'browser.web_vital.rating': 'needs-improvement',
      'browser.web_vital.delta': 180,
      'browser.web_vital.id': 'v5-1',
      'browser.web_vital.navigation_type': 'navigate',
      'browser.web_vital.attribution.interaction_target': 'button#buy',
      'browser.web_vital.attribution.interaction_type': 'pointer',
      'browser.web_vital.attribution.input_delay': 12.5,
      'browser.web_vital.attribution.first_byte_to_fcp': 40,
    });
  });
});
