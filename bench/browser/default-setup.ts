// The default setup an app writes, measured by ../../packages/browser/scripts/size.ts (the CI size gate) and
// by ../../../shared/bench/bundle-size/measure.mjs side by side with the peers (see RESULTS.md).
import { init } from '@rumkit/browser';

init({
  endpoint: 'https://rum.example.invalid',
  apiKey: 'pk_bench',
  serviceName: 'bench-app',
  propagateTraceHeaderCorsUrls: ['https://api.example.invalid'],
});
