/**
 * A Vite plugin that resolves react, react-dom and react-router, and their subpaths (`react/jsx-runtime`,
 * `react-dom/client`, …), as if they were imported from `folder`, whoever imports them: so the test app and
 * `@rumkit/react`'s sources, which would get the React 19 of the repository, get the line installed there. Imports
 * inside those packages then find their siblings there as usual (react-dom 18 its React 18), also when Node loads
 * them unbundled, as Vitest does.
 *
 *     plugins: [react(), resolveReactFrom(REACT_18.packagesFrom)]
 */
import path from 'node:path';
import type { Plugin } from 'vite';

const REACT_PACKAGES = /^(react|react-dom|react-router)(\/|$)/;

export function resolveReactFrom(folder: string): Plugin {
  // Resolution only looks at the importer's directory; the file need not be a module.
  const importer = path.join(folder, 'package.json');
  return {
    name: 'rumkit:resolve-react-from',
    enforce: 'pre',
    resolveId(source, _importer, options) {
      if (!REACT_PACKAGES.test(source)) return null;
      return this.resolve(source, importer, { ...options, skipSelf: true });
    },
  };
}
