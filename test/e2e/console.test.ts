/**
 * The web console in headless Chromium against a real hub (`edgepush hub` child process): it
 * logs in with the token from the address, shows an agent and its queued push, cancels and
 * resends the push through the UI (checked through the API), and keeps the token out of the
 * address bar and storage. A wrong token gives a clear error.
 */
import type { Browser, Page } from 'playwright-core';
import { http, run, startHub, stopAll, tempDir, token, type HubProc } from './harness';
import { canConnect } from '../inbound/relay-process';
import { connectSender, msa, oru } from '../inbound/sender';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';
import { launchChromium } from '../support/browser';

const MSG = 'MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|C1|P|2.5\rPID|1||123\r';

describe('web console in a browser', () => {
  const dir = tempDir();
  let hub: HubProc;
  let tok: string;
  let browser: Browser;
  let pushId: string;
  const agentId = 'site-console';

  beforeAll(async () => {
    browser = await launchChromium();
    hub = await startHub(dir.path);
    tok = await token(dir.path);
    expect((await http(`${hub.url}/agents`, { token: tok, body: { agentId } })).status).toBe(201);
    // No relay connects for this agent, so the push stays queued.
    const res = await http(`${hub.url}/agents/${agentId}/push`, {
      token: tok,
      body: { destination: 'lab', body: MSG, waitForResponse: false, expiresIn: 600 },
    });
    expect(res.body.status).toBe('queued');
    pushId = res.body.pushId;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stopAll();
    dir.remove();
  });

  /** A page that records every request it makes and every console error or CSP violation. */
  async function open(fragment: string): Promise<{ page: Page; requests: string[]; problems: string[] }> {
    const page = await browser.newPage();
    // Well inside jest's 30 s, so a missing element fails with playwright's own message.
    page.setDefaultTimeout(8_000);
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
    await page.goto(`${hub.url}/console/#${fragment}`);
    return { page, requests, problems };
  }

  it('shows the agent and its queued push, cancels and resends it, and keeps the token out of the address bar', async () => {
    const { page, requests, problems } = await open(`token=${encodeURIComponent(tok)}`);
    const agents = page.getByRole('region', { name: 'Agents' });
    await agents.getByRole('button', { name: agentId }).waitFor();
    await expect(agents.getByRole('row', { name: new RegExp(agentId) }).textContent()).resolves.toMatch(/disconnected/);

    const pushes = page.getByRole('region', { name: 'Pushes' });
    const row = pushes.locator(`tr[data-push-id="${pushId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(new RegExp(`${agentId}.*lab.*queued`));

    // The token was read, then removed from the address and history; nothing was stored.
    // A string, evaluated in the page: the repo's TypeScript has no DOM types.
    const where = await page.evaluate(
      '({ href: location.href, hash: location.hash, stored: localStorage.length + sessionStorage.length, cookie: document.cookie })',
    );
    expect(where).toStrictEqual({ href: `${hub.url}/console/`, hash: '', stored: 0, cookie: '' });
    expect(requests.some((u) => u.includes(tok))).toBe(false);

    await row.getByRole('button', { name: pushId }).click();
    const detail = page.getByRole('article', { name: `Push ${pushId}` });
    await detail.getByText('queued', { exact: true }).waitFor();
    await detail.getByRole('button', { name: 'Cancel push' }).click();
    await detail.getByText(`Push ${pushId} is cancelled.`).waitFor();
    expect((await http(`${hub.url}/pushes/${pushId}`, { token: tok })).body.status).toBe('cancelled');
    await expect(detail.getByRole('button', { name: 'Cancel push' }).isDisabled()).resolves.toBe(true);

    await detail.getByRole('button', { name: 'Resend' }).click();
    const resent = await detail.getByText(/^Resent as push (\S+) \(queued\)\.$/).textContent();
    const newId = /push (\S+) /.exec(resent!)![1];
    expect((await http(`${hub.url}/pushes/${newId}`, { token: tok })).body).toMatchObject({ status: 'queued', resendOf: pushId });

    // Everything came from the hub itself (the CSP allows nothing else), with no error.
    expect(requests.filter((u) => !u.startsWith(`${hub.url}/`))).toStrictEqual([]);
    expect(problems).toStrictEqual([]);
    await page.close();
  });

  it('filters pushes by status and agent', async () => {
    const { page } = await open(`token=${encodeURIComponent(tok)}`);
    const pushes = page.getByRole('region', { name: 'Pushes' });
    await pushes.locator(`tr[data-push-id="${pushId}"]`).waitFor();
    await pushes.getByLabel('Status', { exact: true }).selectOption('acked');
    await pushes.getByRole('button', { name: 'Apply filters' }).click();
    await pushes.getByText('No pushes match.').waitFor();
    await pushes.getByLabel('Status', { exact: true }).selectOption('cancelled');
    await pushes.getByLabel('Agent', { exact: true }).fill(agentId);
    await pushes.getByRole('button', { name: 'Apply filters' }).click();
    await pushes.locator(`tr[data-push-id="${pushId}"]`).waitFor();
    expect(await pushes.getByRole('row').count()).toBe(2); // the header and the cancelled push

    // From an agent's detail: its pushes, any status, and the reader is taken there.
    await pushes.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('region', { name: 'Agents' }).getByRole('button', { name: agentId }).click();
    await page.getByRole('button', { name: 'Show its pushes' }).click();
    await expect(pushes.getByLabel('Agent', { exact: true }).inputValue()).resolves.toBe(agentId);
    await expect(page.evaluate('document.activeElement.id')).resolves.toBe('pushes-title');
    await pushes.locator('tbody tr').nth(1).waitFor(); // the first test's cancelled push and its resend
    await page.close();
  });

  it('shows the inbound messages a device sent through a relay channel', async () => {
    // Its own agent: a relay for site-console would take its queued push.
    const created = await http(`${hub.url}/agents`, { token: tok, body: { agentId: 'site-inbound' } });
    const lab = await freePort();
    run(
      ['relay', '--url', hub.wsUrl, '--agent', 'site-inbound', '--data', dir.path + '/relay', '--channel', `lab=mllp://127.0.0.1:${lab}`],
      {
        EDGEPUSH_AGENT_SECRET: created.body.secret as string,
      },
    );
    await waitFor(() => canConnect(lab), 15_000, 'the channel');
    const device = await connectSender(lab);
    expect(msa(await device.exchange(oru('CONSOLE-IN-1')))).toMatchObject({ code: 'AA' });
    device.close();
    await waitFor(
      async () => (await http(`${hub.url}/agents/site-inbound/messages`, { token: tok })).body.messages?.length === 1,
      15_000,
      'the message stored',
    );

    const { page } = await open(`token=${encodeURIComponent(tok)}`);
    const inbound = page.getByRole('region', { name: 'Inbound messages' });
    await inbound.getByLabel('Agent', { exact: true }).fill('site-inbound');
    await inbound.getByRole('button', { name: 'Show messages' }).click();
    await expect(inbound.getByRole('row', { name: /CONSOLE-IN-1/ }).textContent()).resolves.toMatch(/lab/);
    await page.close();
  });

  it('shows a clear error for a wrong token, and still removes it from the address', async () => {
    const { page } = await open('token=not-a-real-token');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/The server refused the token: invalid token\. Open the console with a valid token/);
    expect(await page.evaluate('location.href')).toBe(`${hub.url}/console/`);
    await expect(page.getByRole('region', { name: 'Pushes' }).count()).resolves.toBe(0);
    await page.close();
  });

  it('shows what a push-only token may see: pushes, and why the agents are not shown', async () => {
    const pushOnly = await token(dir.path, ['edgepush/push']);
    const { page } = await open(`token=${encodeURIComponent(pushOnly)}`);
    await page.getByRole('region', { name: 'Pushes' }).locator(`tr[data-push-id="${pushId}"]`).waitFor();
    await page
      .getByRole('region', { name: 'Agents' })
      .getByText('Agents could not be loaded: not allowed with this token: this route needs the edgepush/admin scope')
      .waitFor();
    await page.close();
  });

  it('asks for a token when the address has none', async () => {
    const { page } = await open('');
    await page.getByLabel('Token', { exact: true }).fill(tok);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('region', { name: 'Agents' }).getByRole('button', { name: agentId }).waitFor();
    await page.close();
  });
});
