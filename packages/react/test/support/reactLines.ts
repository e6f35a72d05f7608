/**
 * The React lines `@rumkit/react` is tested against: the newest and the oldest majors of its peer ranges. Each
 * names the folder whose node_modules holds its react, react-dom and react-router (resolveReactFrom.ts makes the
 * test app and the package's sources use those), and the versions pinned there, which the tests check they really
 * ran, so that a resolution falling back to the newest line fails rather than passes for the oldest.
 *
 *     REACT_LINES.map((line) => ({ name: line.name, use: { reactLine: line } }))   // one Playwright project per line
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ReactLine {
  /** The Playwright project's name. */
  name: string;
  /** The folder from which react, react-dom and react-router resolve. */
  packagesFrom: string;
  /** Where the test app built against this line goes. */
  appDist: string;
  /** The versions pinned in that folder's package.json. */
  versions: { react: string; reactDom: string; reactRouter: string };
}

const packageRoot = path.resolve(import.meta.dirname, '../..');

function reactLine(name: string, packagesFrom: string): ReactLine {
  const pins = JSON.parse(readFileSync(path.join(packagesFrom, 'package.json'), 'utf8')).devDependencies;
  return {
    name,
    packagesFrom,
    appDist: path.join(packageRoot, 'test/app/dist', name),
    versions: { react: pins.react, reactDom: pins['react-dom'], reactRouter: pins['react-router'] },
  };
}

export const REACT_19 = reactLine('react-19', packageRoot);
export const REACT_18 = reactLine('react-18', path.resolve(packageRoot, '../react-18-peers'));
export const REACT_LINES = [REACT_19, REACT_18];
