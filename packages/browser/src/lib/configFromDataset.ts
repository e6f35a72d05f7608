/**
 * The agent's config from a script tag's `data-*` attributes (`data-api-key` → `apiKey`). Attribute values
 * are strings; lists are comma- or space-separated, booleans are present (or anything but `"false"`).
 * `data-xhr` yields `xhr: true`, which the script-tag build turns into loading its XHR chunk.
 *
 *     createAgent(configFromDataset(document.currentScript.dataset), …);
 */
import type { RumkitConfig } from '../config.ts';

/** `data-*` attribute values are strings; the options that are not get converted. */
export function configFromDataset(dataset: DOMStringMap): RumkitConfig {
  const config: Record<string, unknown> = { ...dataset };
  if (dataset.sampleRate) config.sampleRate = Number(dataset.sampleRate);
  for (const key of ['propagateTraceHeaderCorsUrls', 'ignoreUrls']) {
    if (dataset[key]) config[key] = dataset[key].split(/[\s,]+/).filter(Boolean);
  }
  for (const key of ['debug', 'xhr']) if (key in dataset) config[key] = dataset[key] !== 'false';
  return config as unknown as RumkitConfig;
}
