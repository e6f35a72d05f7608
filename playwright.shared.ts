/**
 * How every Playwright suite launches Chromium: Debian's `/usr/bin/chromium` (Playwright cannot download a
 * browser here; `RUMKIT_CHROMIUM` points elsewhere), headless, with the background services that would
 * try to reach the internet switched off.
 *
 *     use: { browserName: 'chromium', launchOptions: chromiumLaunchOptions }
 */
export const chromiumLaunchOptions = {
  executablePath: process.env.RUMKIT_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
  ],
};
