/**
 * Runs a command-line tool (promtool, the collector, Tempo, docker compose) to completion, bounded,
 * and returns its exit status with stdout and stderr together, which is where these tools explain
 * a rejection.
 *
 *   const { status, output } = runTool('promtool', ['check', 'rules', file]);
 */
import { spawnSync } from 'node:child_process';

export type ToolResult = { status: number | null; output: string };

export function runTool(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): ToolResult {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, env: options.env ?? process.env });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { status: null, output: missing ? `${command} is not installed` : result.error.message };
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
