/**
 * The cloud side of inbound, through `edgepush hub` (child process, dist/edgepush.js, --sync
 * flush): a relay scripted on a real WebSocket sends `inbound` messages one at a time, and a
 * webhook server in this process answers 204.
 *   - inbound -> inboundAck: the store (fsynced) before the ACK, per message
 *   - inbound -> webhook POST received: relay to application through the hub
 * (The device -> relay leg, MLLP and the relay's spool, is measured with the relay.)
 * Prints markdown. Bounded: a few seconds.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { loadOrCreateKeys } from '../hub/keys';
import { mintToken } from '../hub/tokens';

const CLI = resolve(__dirname, '../dist/edgepush.js');
const N = 500;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number): string => x.toFixed(2);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-bench-inbound-'));
  const hub = spawn(process.execPath, [CLI, 'hub', '--port', '0', '--data', dir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const out = await new Promise<string>((res) => {
      let text = '';
      hub.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (/Relay WebSocket:\s+ws:\/\/\S+/.test(text)) res(text);
      });
    });
    const url = /Push API:\s+(http:\/\/\S+?)\/\s/.exec(out)![1];
    const wsUrl = /Relay WebSocket:\s+(ws:\/\/\S+)/.exec(out)![1];
    const token = await mintToken(await loadOrCreateKeys(dir));
    const api = async (method: string, path: string, body: object): Promise<Record<string, string>> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as Record<string, string>;
    };
    const { secret } = await api('POST', '/agents', { agentId: 'bench' });

    let onHook: (() => void) | undefined;
    const hook = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(204).end();
        onHook?.();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    await api('PUT', '/agents/bench/webhook', { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` });

    const ws = new WebSocket(wsUrl, { headers: { 'x-edgepush-agent-id': 'bench', 'x-edgepush-agent-secret': secret } });
    await new Promise((r) => ws.once('open', r));
    let onAck: (() => void) | undefined;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string };
      if (m.type === 'inboundAck' || m.type === 'helloAck') onAck?.();
    });
    const sendAndWait = (msg: object): Promise<void> =>
      new Promise((r) => {
        onAck = r;
        ws.send(JSON.stringify(msg));
      });
    await sendAndWait({
      action: 'hello',
      v: 1,
      version: 'bench',
      devices: [],
      channels: [{ name: 'lab-in', protocol: 'mllp', ack: 'fast' }],
    });
    const inbound = (i: number) => ({
      action: 'inbound',
      v: 2,
      inboundId: randomUUID(),
      channel: 'lab-in',
      contentType: 'x-application/hl7-v2+er7',
      body: `MSH|^~\\&|LAB|DEV|EP|HUB|20240101120000||ORU^R01|B${i}-${randomUUID()}|P|2.5\rPID|1||${i}\rOBX|1|NM|GLU||5.4|mmol/L`,
      receivedAt: Date.now(),
      ack: 'fast',
    });

    const ackTimes: number[] = [];
    const hookTimes: number[] = [];
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const delivered = new Promise<void>((r) => (onHook = r));
      await sendAndWait(inbound(i));
      ackTimes.push(performance.now() - t0);
      await delivered;
      hookTimes.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`| ${N} sequential messages, hub --sync flush | p50 ms | p99 ms |\n| --- | --- | --- |\n`);
    process.stdout.write(`| relay inbound -> inboundAck (stored, fsynced) | ${ms(pct(ackTimes, 50))} | ${ms(pct(ackTimes, 99))} |\n`);
    process.stdout.write(`| relay inbound -> webhook POST received | ${ms(pct(hookTimes, 50))} | ${ms(pct(hookTimes, 99))} |\n`);
    process.stdout.write(`\n${(N / seconds).toFixed(0)} messages/s end to end, one at a time.\n`);
    ws.close();
    hook.close();
  } finally {
    hub.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
