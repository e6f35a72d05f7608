/**
 * The collector and Tempo configs fall back to the loopback stack's addresses at the default port base
 * (RUMKIT_PORT_BASE=14300), so either binary started by hand on them finds the other. The stack sets every one
 * of those variables itself (e2e/stack/stack.ts); here each default is held to what the stack sets at that base.
 */
import { describe, expect, it } from 'vitest';
import { stackPorts } from '../e2e/stack/ports.ts';
import { repoPaths } from '../e2e/stack/repoPaths.ts';
import { stackComponents } from '../e2e/stack/stack.ts';
import { configVariables } from './testing/configVariables.ts';

const DEFAULT_BASE = 14300;

/** A loopback address or URL, or a port: what follows from the port base, not a directory or a limit. */
const isAddress = (name: string, value: string) =>
  name.endsWith('_PORT') || /^(http:\/\/)?127\.0\.0\.1(:\d+)?(\/.*)?$/.test(value);

const components = stackComponents(
  { collector: 'otelcol', tempo: 'tempo' },
  stackPorts(DEFAULT_BASE),
  '/data',
  'token',
);

describe.each([
  ['collector', repoPaths.collectorConfig],
  ['tempo', repoPaths.tempoConfig],
])('%s config defaults', (name, file) => {
  const env = components.find((component) => component.name === name)?.env ?? {};
  // Once each: a default may stand in several places.
  const addresses = [
    ...new Map(
      configVariables(file).flatMap(([name, fallback]) =>
        fallback !== undefined && isAddress(name, fallback) ? [[name, fallback] as const] : [],
      ),
    ),
  ];

  it('name addresses at all', () => {
    expect(addresses.length).toBeGreaterThan(3);
  });

  it.each(addresses)('%s defaults to what the stack sets at the default base', (variable, value) => {
    expect(env[variable], `${variable} is not set by the stack`).toBeDefined();
    expect(value).toBe(env[variable]);
  });
});
