/**
 * `npm start` (edgepush demo) prints the console's address with a token; with --keep the demo
 * stays up until Ctrl+C, and that address shows the demo's agent and its acked push.
 */
import type { Browser } from 'playwright-core';
import { run, stopAll } from './harness';
import { launchChromium } from '../support/browser';

describe('the demo and the console', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('prints a console URL that works while --keep holds the demo open, and stops on SIGINT', async () => {
    browser = await launchChromium();
    const demo = run(['demo', '--keep']);
    const [, url] = await demo.waitFor(/7\. web console\s+(http:\/\/\S+\/console\/#token=\S+)/, 20_000);
    await demo.waitFor(/Press Ctrl\+C/);

    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    await page.goto(url);
    await page.getByRole('region', { name: 'Agents' }).getByRole('button', { name: 'demo-site' }).waitFor();
    const row = page.getByRole('region', { name: 'Pushes' }).locator('tbody tr');
    expect(await row.textContent()).toMatch(/demo-site.*lab.*acked.*AA/);

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toMatch(/Everything was shut down and the temp data deleted/);
  }, 40_000);

  it('ends on its own without --keep when not on a terminal (CI), saying how to keep it', async () => {
    const demo = run(['demo']);
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toMatch(/7\. web console\s+http:\/\/127\.0\.0\.1:\d+\/console\/#token=\S+\n.*npm start -- --keep/);
  }, 30_000);
});
