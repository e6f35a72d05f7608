import { describe, expect, it } from 'vitest';
import { buildStackBinaries } from '../../e2e/stack/build.ts';
import { repoPaths } from '../../e2e/stack/repoPaths.ts';
import { runTool } from '../testing/runTool.ts';

const { collector } = await buildStackBinaries({ log: () => {} });
const { RUMKIT_COLLECTOR_TOKEN: _ignored, ...envWithoutToken } = process.env;

describe('collector configuration', () => {
  it('passes the collector’s own validate command', () => {
    const env = { ...envWithoutToken, RUMKIT_COLLECTOR_TOKEN: 'validate-only' };
    const { status, output } = runTool(collector, ['validate', `--config=${repoPaths.collectorConfig}`], { env });
    expect(status, output).toBe(0);
  });

  it('refuses to run without a bearer token for its writers', () => {
    const { status, output } = runTool(collector, ['validate', `--config=${repoPaths.collectorConfig}`], {
      env: envWithoutToken,
    });
    expect(output).toContain('no bearer token provided');
    expect(status).not.toBe(0);
  });
});
