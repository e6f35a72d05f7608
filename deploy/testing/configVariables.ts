/**
 * The environment variables a config file reads, comments left out: `${NAME}` and `${NAME:-default}` (Tempo,
 * the worker) or `${env:NAME}` and `${env:NAME:-default}` (the collector), each with its default, `undefined`
 * when it has none (the variable is required). One entry per occurrence, in the file's order.
 *
 *   const required = configVariables(file).filter(([, fallback]) => fallback === undefined);
 */
import { readFileSync } from 'node:fs';

export function configVariables(file: string): Array<[name: string, fallback: string | undefined]> {
  const text = readFileSync(file, 'utf8').replace(/^\s*#.*$/gm, '');
  return [...text.matchAll(/\$\{(?:env:)?(\w+)(?::-([^}]*))?\}/g)].map(([, name = '', fallback]) => [name, fallback]);
}
