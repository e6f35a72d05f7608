import { expect, it } from 'vitest';
import { buildStackBinaries } from '../../e2e/stack/build.ts';
import { repoPaths } from '../../e2e/stack/repoPaths.ts';
import { runTool } from '../testing/runTool.ts';

const { tempo } = await buildStackBinaries({ log: () => {} });

it('passes Tempo’s -config.verify with every key known to this Tempo', () => {
  // Unknown keys fail the parse, so a setting misspelled or missing from this release is caught here.
  const { status, output } = runTool(tempo, [
    `-config.file=${repoPaths.tempoConfig}`,
    '-config.expand-env=true',
    '-config.verify=true',
  ]);
  expect(status, output).toBe(0);
});
