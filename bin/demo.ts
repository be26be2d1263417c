/**
 * `edgepush demo`: the whole push path on one machine, in one process, on free loopback ports:
 * hub (temp data dir) -> relay -> simulated device, driven through the real HTTP API.
 * It prints each hop as it happens and returns the ACK and the round-trip time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generateExampleAdt } from '../hl7/example';
import { startHl7Listener, type Hl7Listener } from '../edge-agent/mllp/listener';
import { resolveConfig } from '../edge-agent/relay/config-schema';
import { Relay } from '../edge-agent/relay/relay';
import { callApi, toApiError } from './api-client';
import { startHub, type Hub } from '../hub/hub';
import { loadOrCreateKeys } from '../hub/keys';
import { mintToken } from '../hub/tokens';

export interface DemoResult {
  ackCode: string;
  ack: string;
  roundTripMs: number;
}

const AGENT_ID = 'demo-site';
const DEVICE = 'lab';

export interface DemoOptions {
  /**
   * Called once the push is acked, with everything still running; the demo shuts down when it
   * resolves. `edgepush demo --keep` waits for Ctrl+C here, so the console can be looked at.
   */
  beforeShutdown?: () => Promise<void>;
}

export async function runDemo(print: (line: string) => void, options: DemoOptions = {}): Promise<DemoResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'edgepush-demo-'));
  const quiet = pino({ level: 'silent' });
  let hub: Hub | undefined;
  let device: Hl7Listener | undefined;
  let relay: Relay | undefined;
  try {
    hub = await startHub({ port: 0, dataDir, logger: quiet });
    print(`1. hub listening         ${hub.url} (relays: ${hub.wsUrl})`);

    device = await startHl7Listener({ port: 0 });
    print(`2. device listening      mllp://127.0.0.1:${device.port} (simulated, ACKs with AA)`);

    const target = { api: hub.url, token: await mintToken(await loadOrCreateKeys(dataDir)) };
    const created = await callApi<{ agentId: string; secret: string }>(target, 'POST', '/agents', { agentId: AGENT_ID });
    if (created.status !== 201) throw toApiError(created);
    print(`3. agent created         ${AGENT_ID} (POST /agents; its secret goes to the relay)`);

    relay = new Relay(
      resolveConfig({
        url: hub.wsUrl,
        agentId: AGENT_ID,
        secret: created.body.secret,
        devices: [`${DEVICE}=mllp://127.0.0.1:${device.port}`],
        logLevel: 'silent',
      }),
      quiet,
    );
    relay.start();
    await waitForRelay(target);
    print(`4. relay connected       agent ${AGENT_ID}, device "${DEVICE}" -> 127.0.0.1:${device.port}`);

    const message = generateExampleAdt();
    const started = process.hrtime.bigint();
    const res = await callApi<{ pushId: string; status: string; ackCode?: string; response?: string; error?: string }>(
      target,
      'POST',
      `/agents/${AGENT_ID}/push`,
      { destination: DEVICE, body: message, waitTimeout: 10_000 },
    );
    const roundTripMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (typeof res.body.pushId !== 'string') throw toApiError(res);
    print(`5. push accepted         POST /agents/${AGENT_ID}/push -> ${res.status} ${res.body.status} (pushId ${res.body.pushId})`);
    if (res.body.status !== 'acked' || !res.body.response) {
      throw new Error(`the push ended ${res.body.status}${res.body.error ? `: ${res.body.error}` : ''}`);
    }
    print(
      `6. ACK received          ${res.body.ackCode} in ${roundTripMs.toFixed(1)} ms (HTTP -> hub -> WebSocket -> relay -> MLLP -> device and back)`,
    );
    // The token rides in the fragment, which the browser never sends to the server.
    print(`7. web console           ${hub.url}/console/#token=${target.token}`);
    await options.beforeShutdown?.();
    return { ackCode: res.body.ackCode ?? '', ack: res.body.response, roundTripMs };
  } finally {
    await relay?.stop().catch(() => undefined);
    await device?.close().catch(() => undefined);
    await hub?.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function waitForRelay(target: { api: string; token: string }, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await callApi<{ status?: string; devices?: { name: string }[] }>(target, 'GET', `/agents/${AGENT_ID}`);
    if (res.body.status === 'connected' && res.body.devices?.some((d) => d.name === DEVICE)) return;
    if (Date.now() > deadline) throw new Error('the relay did not connect within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
