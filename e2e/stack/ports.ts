/**
 * The loopback ports of the local stack, all offsets from one base so that two stacks
 * (a developer's and CI's, or two worktrees) can run side by side.
 *
 *   const ports = stackPorts();           // RUMKIT_PORT_BASE or 14300
 *   fetch(`http://127.0.0.1:${ports.tempoHttp}/ready`);
 */

export type StackPorts = {
  web: number;
  api: number;
  worker: number;
  thirdParty: number;
  view: number;
  collectorHttp: number;
  collectorGrpc: number;
  collectorHealth: number;
  collectorMetrics: number;
  tempoHttp: number;
  tempoGrpc: number;
  tempoMemberlist: number;
  tempoOtlpHttp: number;
  tempoOtlpGrpc: number;
  prometheus: number;
};

export const DEFAULT_PORT_BASE = 14300;

export function portBaseFromEnv(): number {
  return Number(process.env.RUMKIT_PORT_BASE ?? DEFAULT_PORT_BASE);
}

export function stackPorts(base = portBaseFromEnv()): StackPorts {
  if (!Number.isInteger(base) || base < 1024 || base + 30 > 65535) {
    throw new Error(`RUMKIT_PORT_BASE must be an integer between 1024 and 65505, got ${base}`);
  }
  return {
    web: base,
    api: base + 1,
    worker: base + 2,
    thirdParty: base + 3,
    view: base + 4,
    collectorHttp: base + 10,
    collectorGrpc: base + 11,
    collectorHealth: base + 12,
    collectorMetrics: base + 13,
    tempoHttp: base + 20,
    tempoGrpc: base + 21,
    tempoMemberlist: base + 22,
    tempoOtlpHttp: base + 23,
    tempoOtlpGrpc: base + 24,
    prometheus: base + 30,
  };
}
