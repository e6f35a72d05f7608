/**
 * CPU per batch of the whole app (`app.request`, as in pipeline.ts) for this checkout and another one, in one
 * process, rounds interleaved: a change worth a few percent is smaller than the spread between separate runs
 * on a shared machine, not than the spread within one.
 *
 *     git worktree add /tmp/before <commit>      # and link its node_modules (see RESULTS.md)
 *     node --conditions=rumkit-source bench/worker/compare.ts /tmp/before [json|gzip|pb] [rounds]
 */
import { resolve } from 'node:path';
import { fixtureBytes } from '../../worker/src/testing/config.ts';
import { appOf } from './appOf.ts';

const [other, kind = 'json', rounds = '20'] = process.argv.slice(2);
if (!other) throw new Error('usage: node bench/worker/compare.ts <other checkout> [json|gzip|pb] [rounds]');

const bodies = {
  json: { file: 'typical.json', type: 'application/json', encoding: undefined },
  gzip: { file: 'typical.json.gz', type: 'application/json', encoding: 'gzip' },
  pb: { file: 'typical.pb', type: 'application/x-protobuf', encoding: undefined },
} as const;
const chosen = bodies[kind as keyof typeof bodies];
if (!chosen) throw new Error(`unknown body kind ${kind}: json, gzip or pb`);
const body = fixtureBytes(chosen.file);

const checkouts = { this: await appOf(resolve('.')), other: await appOf(resolve(other)) };
const samples: Record<keyof typeof checkouts, number[]> = { this: [], other: [] };
const PER_ROUND = 200;
for (let round = 0; round < Number(rounds); round++) {
  for (const name of ['other', 'this'] as const) {
    const { app, key } = checkouts[name];
    const headers: Record<string, string> = { 'content-type': chosen.type, 'x-rumkit-key': key };
    if (chosen.encoding) headers['content-encoding'] = chosen.encoding;
    const start = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) {
      const res = await app.request('/v1/traces', { method: 'POST', headers, body });
      if (res.status !== 200) throw new Error(`${name}: status ${res.status}`);
      await res.arrayBuffer();
    }
    const used = process.cpuUsage(start);
    samples[name].push((used.user + used.system) / PER_ROUND);
  }
}
// The first fifth of the rounds warm both up.
const settled = (values: number[]) => values.slice(Math.floor(values.length / 5)).sort((a, b) => a - b);
const median = (values: number[]) => values[Math.floor(values.length / 2)] as number;
const mine = settled(samples.this);
const theirs = settled(samples.other);
console.log(`typical 50-span batch, ${kind}: CPU µs per batch, median (fastest) of ${mine.length} rounds`);
console.log(`| checkout | µs |\n| --- | ---: |`);
console.log(`| ${resolve(other)} | ${median(theirs).toFixed(0)} (${theirs[0]?.toFixed(0)}) |`);
console.log(`| this | ${median(mine).toFixed(0)} (${mine[0]?.toFixed(0)}) |`);
console.log(`this ÷ other: ${(median(mine) / median(theirs)).toFixed(2)}`);
