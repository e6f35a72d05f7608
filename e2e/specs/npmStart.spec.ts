/**
 * `npm start` as a user runs it: scripts/start.ts in a process of its own, which prints where everything is,
 * serves it, and stops every process it started on Ctrl-C (SIGINT) — also when Ctrl-C comes while the demo's
 * processes or the stack of `--stack` are still starting —, what a run killed outright left (the demo, the stack) is
 * stopped by the next one, and `TEMPO_URL=… npm start` against the global setup's collector and Tempo. Each test has
 * its own ports (70, 100, 140, 150, 180, 200, 210 and 240 above the run's base) beside the global setup's system.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { recordFile, stopLeftovers } from '../harness/demoRecord.ts';
import { e2eUrls } from '../harness/e2eUrls.ts';
import { DEMO_API_KEY } from '../harness/startDemo.ts';
import { portBaseFromEnv, stackPorts } from '../stack/ports.ts';
import { postTestSpans, testSpan } from '../stack/postTestSpans.ts';
import { repoPaths } from '../stack/repoPaths.ts';
import { stopRecordedStack } from '../stack/stackRecord.ts';

interface NpmStart {
  child: ChildProcess;
  output(): string;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string>;
}

/** `node scripts/start.ts`, as the terminal's npm start runs it; `viaNpm`: `npm start` itself, npm in between. */
function npmStart(base: number, args: string[] = [], env: NodeJS.ProcessEnv = {}, viaNpm = false): NpmStart {
  const [command, commandArgs] = viaNpm
    ? ['npm', ['start', '--', ...args]]
    : [process.execPath, ['scripts/start.ts', ...args]];
  const child = spawn(command, commandArgs, {
    cwd: repoPaths.root,
    env: { ...process.env, ...env, RUMKIT_PORT_BASE: String(base) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? String(signal))),
  );
  const run = { child, output: () => output, exited };
  runs.push(run);
  return run;
}

/** The log directory a run printed: on its `logs` line once up, or in the error that stopped it. */
function logDirOf(run: NpmStart): string | undefined {
  return /^\s+logs\s+([^\s,]+)|\(logs: ([^\s)]+)\)/m.exec(run.output())?.slice(1).find(Boolean);
}

/** Whether something accepts connections on the loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let running: NpmStart | undefined;
/** Every run a test started, `running` and others. */
let runs: NpmStart[] = [];
let stackBase: number | undefined;
let demoBase: number | undefined;
test.afterEach(async () => {
  // A failed test must not leave its processes behind: stop them the way a user would, then by the PIDs the
  // stack and the demo recorded.
  for (const run of runs) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGINT');
    await run.exited;
  }
  if (stackBase !== undefined) await stopRecordedStack(stackBase);
  if (demoBase !== undefined) await stopLeftovers(demoBase, () => {});
  // npm start keeps its logs for the user after a failure; the test's runs leave nothing behind.
  for (const run of runs) {
    const logDir = logDirOf(run);
    if (logDir?.startsWith(join(tmpdir(), 'rumkit-demo-'))) rmSync(logDir, { recursive: true, force: true });
  }
  running = undefined;
  runs = [];
  stackBase = undefined;
  demoBase = undefined;
});

test('npm start prints its URLs, serves them, and Ctrl-C stops everything it started', async () => {
  const ports = stackPorts(portBaseFromEnv() + 70);
  running = npmStart(ports.web);
  await expect.poll(() => running?.output() ?? '', { timeout: 120_000 }).toContain('Ctrl-C stops everything');
  const output = running.output();
  expect(output).toContain('local mode');
  for (const [what, port] of [
    ['demo page (React)', ports.web],
    ['trace view', ports.view],
    ['demo API', ports.api],
    ['edge worker', ports.worker],
  ] as const) {
    expect(output).toMatch(new RegExp(`${what.replace(/[()]/g, '\\$&')}\\s+http://127\\.0\\.0\\.1:${port}`));
  }
  expect((await fetch(`http://127.0.0.1:${ports.web}/`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${ports.view}/`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${ports.worker}/health`)).ok).toBe(true);

  const logDir = logDirOf(running);
  expect(logDir && existsSync(logDir)).toBe(true);

  running.child.kill('SIGINT');
  expect(await running.exited).toBe(130);
  for (const port of [ports.web, ports.api, ports.worker, ports.thirdParty, ports.view]) {
    expect(await listening(port), `port ${port} after Ctrl-C`).toBe(false);
  }
  // Stopped by the user, nothing failed: its logs go with it, as the stack's data directory does.
  expect(existsSync(logDir as string)).toBe(false);
});

test('a demo process that dies stops npm start, whose logs stay for the user', async () => {
  const ports = stackPorts(portBaseFromEnv() + 90);
  running = npmStart(ports.web);
  await expect.poll(() => running?.output() ?? '', { timeout: 120_000 }).toContain('Ctrl-C stops everything');
  const logDir = logDirOf(running) as string;
  const record = JSON.parse(readFileSync(recordFile(ports.web), 'utf8')) as {
    processes: { name: string; pid: number }[];
  };
  const worker = record.processes.find(({ name }) => name === 'worker');
  expect(worker).toBeDefined();
  process.kill(worker?.pid as number, 'SIGKILL');
  expect(await running.exited).toBe(1);
  expect(running.output()).toContain('worker');
  for (const port of [ports.web, ports.api, ports.thirdParty, ports.view]) {
    expect(await listening(port), `port ${port} after the worker died`).toBe(false);
  }
  expect(readdirSync(logDir).length).toBeGreaterThan(0);
});

test('Ctrl-C while the stack of npm run start:stack is still starting stops its processes', async () => {
  stackBase = portBaseFromEnv() + 100;
  const ports = stackPorts(stackBase);
  running = npmStart(stackBase, ['--stack']);
  // Prometheus, Tempo and the collector are launched together; once one listens, all have PIDs on disk.
  await expect.poll(() => listening(ports.prometheus), { timeout: 120_000, intervals: [100] }).toBe(true);
  expect(running.output()).not.toContain('Ctrl-C stops everything');
  running.child.kill('SIGINT');
  expect(await running.exited).toBe(130);
  for (const port of [ports.prometheus, ports.tempoHttp, ports.collectorHttp, ports.collectorHealth]) {
    expect(await listening(port), `port ${port} after Ctrl-C`).toBe(false);
  }
});

test('Ctrl-C while the demo processes are still starting stops them', async () => {
  const ports = stackPorts(portBaseFromEnv() + 140);
  const logDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`rumkit-demo-${ports.web}-`));
  const earlierLogDirs = logDirs();
  running = npmStart(ports.web);
  const demoPorts = [ports.web, ports.api, ports.worker, ports.thirdParty, ports.view];
  // They are launched together: once one listens, every PID has been recorded, and the others are still starting.
  await expect
    .poll(async () => (await Promise.all(demoPorts.map(listening))).some(Boolean), {
      timeout: 120_000,
      intervals: [50],
    })
    .toBe(true);
  expect(running.output()).not.toContain('Ctrl-C stops everything');
  running.child.kill('SIGINT');
  expect(await running.exited).toBe(130);
  for (const port of demoPorts) expect(await listening(port), `port ${port} after Ctrl-C`).toBe(false);
  // The processes it stopped fail their readiness waits, as expected: no error about them.
  expect(running.output()).not.toMatch(/did not become ready|npm start:/);
  // Nor logs it never said where to find, nor the record of processes it stopped.
  expect(logDirs()).toEqual(earlierLogDirs);
  expect(existsSync(recordFile(ports.web))).toBe(false);
});

test('a start refused because one of its ports is taken names no logs and leaves none', async () => {
  const ports = stackPorts(portBaseFromEnv() + 200);
  const logDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`rumkit-demo-${ports.web}-`));
  const earlierLogDirs = logDirs();
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(ports.view, '127.0.0.1', resolve));
  try {
    const refused = npmStart(ports.web);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain(`port ${ports.view} (view) on 127.0.0.1 is in use`);
    expect(refused.output()).not.toContain('(logs:');
    expect(logDirs()).toEqual(earlierLogDirs);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});

test('npm start itself, stopped by a signal to npm (as IDEs and process managers stop it), stops everything', async () => {
  const ports = stackPorts(portBaseFromEnv() + 210);
  const demoPorts = [ports.web, ports.api, ports.worker, ports.thirdParty, ports.view];
  const run = npmStart(ports.web, [], {}, true);
  await expect.poll(() => run.output(), { timeout: 120_000 }).toContain('Ctrl-C stops everything');
  run.child.kill('SIGTERM');
  await run.exited;
  await expect
    .poll(async () => (await Promise.all(demoPorts.map(listening))).some(Boolean), { timeout: 10_000 })
    .toBe(false);
});

test('what a killed npm start left running is stopped by the next run on its ports, a live run is left alone', async () => {
  demoBase = portBaseFromEnv() + 180;
  const ports = stackPorts(demoBase);
  const demoPorts = [ports.web, ports.api, ports.worker, ports.thirdParty, ports.view];
  const first = npmStart(ports.web);
  await expect.poll(() => first.output(), { timeout: 120_000 }).toContain('Ctrl-C stops everything');

  const second = npmStart(ports.web);
  expect(await second.exited).toBe(1);
  expect(second.output()).toContain(
    `the demo on port base ${ports.web} is already running (process ${first.child.pid})`,
  );
  for (const port of demoPorts) expect(await listening(port), `port ${port} of the live run`).toBe(true);

  // No handler runs on SIGKILL: the processes it started outlive it.
  first.child.kill('SIGKILL');
  await first.exited;
  expect(await listening(ports.worker)).toBe(true);
  running = npmStart(ports.web);
  await expect.poll(() => running?.output() ?? '', { timeout: 120_000 }).toContain('Ctrl-C stops everything');
  expect(running.output()).toMatch(
    new RegExp(`stopping what an earlier run left on port base ${ports.web}: view \\(\\d+\\), worker \\(\\d+\\)`),
  );
  running.child.kill('SIGINT');
  expect(await running.exited).toBe(130);
  for (const port of demoPorts) expect(await listening(port), `port ${port} after Ctrl-C`).toBe(false);
});

test('the stack of a killed npm run start:stack is stopped by the next run, a live run is left alone', async () => {
  stackBase = portBaseFromEnv() + 240;
  demoBase = stackBase;
  const ports = stackPorts(stackBase);
  const first = npmStart(stackBase, ['--stack']);
  await expect.poll(() => first.output(), { timeout: 120_000 }).toContain('Ctrl-C stops everything');

  const second = npmStart(stackBase, ['--stack']);
  expect(await second.exited).toBe(1);
  expect(second.output()).toContain(
    `a stack on port base ${stackBase} is already running, owned by process ${first.child.pid}`,
  );
  expect(second.output()).toContain(`RUMKIT_PORT_BASE=${stackBase} node e2e/stack/stop.ts`);
  for (const port of [ports.prometheus, ports.tempoHttp, ports.collectorHealth]) {
    expect(await listening(port), `port ${port} of the live run`).toBe(true);
  }

  // No handler runs on SIGKILL: the stack it started outlives it.
  first.child.kill('SIGKILL');
  await first.exited;
  running = npmStart(stackBase, ['--stack']);
  await expect.poll(() => running?.output() ?? '', { timeout: 120_000 }).toContain('Ctrl-C stops everything');
  expect(running.output()).toMatch(
    new RegExp(
      `stack: stopping what an earlier run left on port base ${stackBase}: prometheus \\(\\d+\\), tempo \\(\\d+\\), collector \\(\\d+\\)`,
    ),
  );
  running.child.kill('SIGINT');
  expect(await running.exited).toBe(130);
  for (const port of [ports.prometheus, ports.tempoHttp, ports.collectorHealth, ports.web]) {
    expect(await listening(port), `port ${port} after Ctrl-C`).toBe(false);
  }
});

test('TEMPO_URL=… npm start sends to that collector and reads that Tempo', async () => {
  const ports = stackPorts(portBaseFromEnv() + 150);
  const { tempo } = e2eUrls();
  const collector = `http://127.0.0.1:${stackPorts().collectorHttp}`;
  running = npmStart(ports.web, [], { TEMPO_URL: tempo, OTEL_COLLECTOR_URL: collector });
  await expect.poll(() => running?.output() ?? '', { timeout: 120_000 }).toContain('Ctrl-C stops everything');
  expect(running.output()).toContain(
    `spans go to the collector at ${collector}, the trace view reads Tempo at ${tempo}`,
  );
  const home = await (await fetch(`http://127.0.0.1:${ports.view}/`)).text();
  expect(home).toContain(`reading from Tempo at ${tempo}`);
  // A span given to this run's worker goes through that collector into that Tempo, and this run's view reads it.
  const span = testSpan({ service: 'rumkit-npm-start-check', name: 'npm start check', kind: 'client' });
  const sent = await postTestSpans(`http://127.0.0.1:${ports.worker}`, [span], { 'x-rumkit-key': DEMO_API_KEY });
  expect(sent.status).toBe(200);
  const traceJson = `http://127.0.0.1:${ports.view}/api/traces/${span.traceId}`;
  const spansInView = async () => {
    const res = await fetch(traceJson);
    return res.ok ? ((await res.json()) as { name: string; serviceName?: string }[]) : [];
  };
  await expect
    .poll(spansInView, { timeout: 60_000, intervals: [1_000] })
    .toEqual([expect.objectContaining({ name: 'npm start check', serviceName: 'rumkit-npm-start-check' })]);
  running.child.kill('SIGINT');
  expect(await running.exited).toBe(130);
});
