/**
 * A hub serving https:// and wss:// (--tls-cert/--tls-key), the way a single-site install
 * exposes it to relays on the network. The CLI and the relay trust its certificate through
 * NODE_EXTRA_CA_CERTS; a relay that does not trust it never connects.
 */
import { join } from 'node:path';
import { run, runToEnd, startDevice, stopAll, tempDir } from './harness';

const FIXTURES = join(__dirname, '../fixtures');
const CERT = join(FIXTURES, 'localhost-cert.pem');
const KEY = join(FIXTURES, 'localhost-key.pem');
const TRUST = { NODE_EXTRA_CA_CERTS: CERT };

describe('e2e: hub over TLS', () => {
  const dir = tempDir();
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('serves the API on https:// and relays on wss://; an untrusted certificate keeps a relay out', async () => {
    const hub = run(['hub', '--port', '0', '--data', dir.path, '--log-level', 'warn', '--tls-cert', CERT, '--tls-key', KEY]);
    const [, api] = await hub.waitFor(/Push API:\s+(https:\/\/\S+?)\/\s/);
    const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(wss:\/\/\S+)/);
    const token = (await runToEnd(['token', '--data', dir.path])).stdout.trim();
    const target = ['--api', api, '--token', token];

    const created = await runToEnd(['agent', 'create', 'tls-site', ...target], TRUST);
    expect(created.code).toBe(0);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    const device = await startDevice();
    const relayArgs = [
      'relay',
      '--url',
      wsUrl,
      '--agent',
      'tls-site',
      '--device',
      `lab=mllp://127.0.0.1:${device.port}`,
      '--log-level',
      'warn',
    ];

    // Without the CA the TLS handshake fails: the relay keeps retrying and never gets in.
    const untrusted = run(relayArgs, { EDGEPUSH_AGENT_SECRET: secret });
    await new Promise((r) => setTimeout(r, 1500));
    expect(JSON.parse((await runToEnd(['agent', 'get', 'tls-site', ...target], TRUST)).stdout)).toMatchObject({ status: 'disconnected' });
    expect(untrusted.stdout() + untrusted.stderr()).toMatch(/self.signed|certificate/i);
    untrusted.child.kill('SIGTERM');
    await untrusted.exited;

    run(relayArgs, { EDGEPUSH_AGENT_SECRET: secret, ...TRUST });
    const deadline = Date.now() + 10_000;
    while (!(await runToEnd(['agent', 'get', 'tls-site', ...target], TRUST)).stdout.includes('"connected"')) {
      if (Date.now() > deadline) throw new Error('relay never connected over wss');
      await new Promise((r) => setTimeout(r, 100));
    }
    const pushed = await runToEnd(['push', 'tls-site', 'lab', '--generate-example', ...target], TRUST);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(/MSA\|AA\|/);
  }, 40_000);
});
