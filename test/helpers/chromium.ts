import { type Browser, chromium } from 'playwright-core';
import { ensureDebianBinary } from './debian.ts';

/**
 * Debian's headless Chromium for the browser tests (playwright cannot download its own here).
 * No sandbox (the suite runs as root), no background networking: the page talks to the test's
 * server on loopback and to nothing else.
 */
export function launchChromium(): Promise<Browser> {
  const executablePath = ensureDebianBinary('chromium', 'chromium');
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}
