import { type Browser, chromium, type Page } from 'playwright-core';
import { ensureDebianBinary } from './debian.ts';
import { waitFor } from './system.ts';

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

/**
 * The letter composer (web/client/letter.ts) after the agent picked another contact: waits until
 * the text was composed again for that person (it starts with their greeting) and returns it.
 */
export async function recomposedFor(page: Page, scope: string, email: string, greeting: string): Promise<string> {
  await page.selectOption(`${scope} select.letter-contact`, email);
  const body = page.locator(`${scope} textarea.letter-body`);
  await waitFor(async () => (await body.inputValue().catch(() => '')).startsWith(greeting), 5000);
  return body.inputValue();
}
