/**
 * The agent's config from a script tag's `data-*` attributes (`data-api-key` → `apiKey`). Attribute values
 * are strings; lists are comma- or space-separated, booleans are present (or anything but `"false"`).
 * `data-xhr` yields `xhr: true` (or `false`), which the script-tag build turns into loading its XHR chunk (or not).
 * Other `data-*` attributes on the tag are not the agent's and are left out.
 *
 *     createAgent(configFromDataset(document.currentScript.dataset), …);
 */
import { isOption, type RumkitConfig } from '../config.ts';

/** `data-*` attribute values are strings; the options that are not get converted. */
export function configFromDataset(dataset: DOMStringMap): RumkitConfig {
  const config: Record<string, unknown> = {};
  for (const key in dataset) if (isOption(key)) config[key] = dataset[key];
  if (dataset.sampleRate) config.sampleRate = Number(dataset.sampleRate);
  for (const key of ['propagateTraceHeaderCorsUrls', 'ignoreUrls']) {
    if (dataset[key]) config[key] = dataset[key].split(/[\s,]+/).filter(Boolean);
  }
  for (const key of ['debug', 'xhr']) if (key in dataset) config[key] = dataset[key] !== 'false';
  return config as unknown as RumkitConfig;
}
