/**
 * The declarations an app's type check reads — those of the package's exports, and every file they import —
 * name no package but the ones it installs with `@rumkit/browser` (its dependencies). The agent bundles
 * OpenTelemetry's instrumentations and `web-vitals`, which are only development dependencies: a declaration
 * that imported their types failed an app's type check under `skipLibCheck: false` (TS2307). Reads the
 * declarations `tsc -b` wrote to dist/, which `npm test` runs first.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types?: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

/** The bare specifiers of every declaration file reachable from `entries`, each with a file that imports it. */
function packagesImported(entries: string[]): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [...entries];
  for (let file = queue.pop(); file; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // `import … from '…'`, `export … from '…'` and `import('…')` types; comments' examples are not code.
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const [, specifier] of code.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
      if (!specifier) continue;
      if (specifier.startsWith('.')) {
        queue.push(path.resolve(path.dirname(file), specifier.replace(/\.(ts|js)$/, '.d.ts')));
      } else if (!found.has(specifier)) found.set(specifier, path.relative(packageDir, file));
    }
  }
  return found;
}

describe('the public declarations', () => {
  it("import only the package's dependencies", () => {
    const entries = Object.values(manifest.exports)
      .map((target) => (typeof target === 'object' ? target.types : undefined))
      .filter((types): types is string => types !== undefined)
      .map((types) => path.join(packageDir, types));
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of entries) expect(existsSync(entry), `${entry} (run npx tsc -b)`).toBe(true);

    const installed = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    const packageOf = (specifier: string) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
    const imported = packagesImported(entries);
    expect(imported.size).toBeGreaterThan(0);
    const missing = [...imported].filter(([specifier]) => !installed.has(packageOf(specifier)));
    expect(missing, 'imported by a public declaration, but not a dependency').toEqual([]);
  });
});
