/**
 * The resource every span of this page shares: the service, the deployment and the browser (semantic
 * conventions `browser.*`, `user_agent.original`), plus the SDK and distribution.
 *
 *     const attributes = resourceAttributes(settings);
 */
import { SDK_INFO } from '@opentelemetry/core';
import type { Settings } from './config.ts';
import { VERSION } from './version.ts';

/** `navigator.userAgentData` (User-Agent Client Hints) is not in TypeScript's DOM library yet. */
interface UserAgentData {
  /** Missing from some polyfills: the resource, read when the first span arrives, must not throw then. */
  brands?: Array<{ brand: string; version: string }>;
  mobile: boolean;
  platform: string;
}

/** Attributes without a value (no version, no client hints) are left out when the resource is encoded. */
export function resourceAttributes(settings: Settings): Record<string, string | boolean | string[] | undefined> {
  const ua = (navigator as Navigator & { userAgentData?: UserAgentData }).userAgentData;
  return {
    ...SDK_INFO,
    'service.name': settings.serviceName,
    'service.version': settings.serviceVersion,
    'deployment.environment.name': settings.environment,
    'telemetry.distro.name': 'rumkit',
    'telemetry.distro.version': VERSION,
    'user_agent.original': navigator.userAgent,
    'browser.language': navigator.language,
    // Only Chromium-based browsers expose client hints; elsewhere the user agent string is all there is.
    'browser.brands': ua?.brands?.map((b) => `${b.brand} ${b.version}`),
    'browser.platform': ua?.platform,
    'browser.mobile': ua?.mobile,
  };
}
