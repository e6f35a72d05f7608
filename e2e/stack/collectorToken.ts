/**
 * The bearer token of the local stack's collector (deploy/collector/config.yaml refuses writers without
 * it). The stack starts the collector with it and the demo's worker and API send it, both defaulting to
 * this value, so `npm run start:stack` and the tests agree without passing it around; RUMKIT_COLLECTOR_TOKEN
 * replaces it. The stack listens on 127.0.0.1 only: a well-known default is a convenience there, and
 * deploy/docker-compose.yml has no default at all.
 *
 *   const token = collectorTokenFromEnv();
 */
export function collectorTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUMKIT_COLLECTOR_TOKEN || 'rumkit-local-collector-token';
}
