/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` driven by
 * playwright-core (which downloads no browser of its own). A machine without it fails the test
 * with what to install, never skips it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.EDGEPUSH_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `headless Chromium is not installed at ${CHROMIUM_PATH}: run \`apt-get install chromium\` (.ci/run does), or set EDGEPUSH_CHROMIUM to its path`,
    );
  }
  // As root (CI, containers) Chromium refuses to start with its sandbox on.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}
