/**
 * Chunked messages (protocol v2) through the hub's real WebSocket gateway on loopback: pushes
 * over 128 KB go down as chunks; a relay's chunks are joined per connection and handed to the
 * core's validator whole; bad chunks get a clear `error` and disturb nothing else; a relay
 * that sends half a message and goes away leaves nothing behind.
 */
import { CloudConnection } from '../../edge-agent/relay/cloud-connection';
import { sendText } from '../../edge-agent/relay/frame-sender';
import { ChunkAssembler, ChunkBudget, relayWireMessages, sha256Hex, splitMessage } from '../../protocol/chunks';
import { MAX_MESSAGE_BYTES } from '../../protocol/limits';
import type { CloudChunkMessage } from '../../protocol/messages';
import { memoryLogger } from '../relay/helpers';
import { openRelay, startInProcessHub, until, type InProcessHub, type RawRelay } from './in-process-hub';

const TIMEOUT_MS = 1_500;
/** A valid heartbeat padded past one WebSocket message (the validator drops unknown fields). */
const bigHeartbeat = (n = 300_000) => JSON.stringify({ action: 'heartbeat', v: 1, padding: 'ä€'.repeat(n / 2) });
const errors = (relay: RawRelay) => relay.messages.filter((m) => m.type === 'error');

describe('chunked messages through the hub (in-process hub, real sockets)', () => {
  let hub: InProcessHub;
  const budget = new ChunkBudget(64 * 1024 * 1024);
  let agents = 0;
  beforeAll(async () => {
    hub = await startInProcessHub({ relay: { chunks: { budget, timeoutMs: TIMEOUT_MS } } });
  });
  afterAll(() => hub.close());

  /** A fresh agent per relay, so one test's closing connection never refuses the next (one relay per agent). */
  async function newAgent(): Promise<{ agentId: string; secret: string }> {
    const agentId = `site-chunks-${++agents}`;
    const secret = (await hub.api('POST', '/agents', { agentId })).body.secret as string;
    return { agentId, secret };
  }

  async function relay(): Promise<RawRelay & { agentId: string; sendRaw(text: string): void; close(): Promise<void> }> {
    const { agentId, secret } = await newAgent();
    const r = await openRelay(hub.wsUrl, agentId, secret);
    // Through the frame sender: the gateway closes a client frame over 32 KB, as API Gateway does.
    const sendRaw = (text: string) => sendText(r.ws, text);
    sendRaw(JSON.stringify({ action: 'hello', v: 1, version: 't', devices: ['lab'] }));
    await until(() => r.messages.some((m) => m.type === 'helloAck'));
    const close = async () => {
      r.ws.close();
      await r.closed;
    };
    return Object.assign(r, { agentId, sendRaw, close });
  }

  it('a push over 128 KB reaches the relay as chunks that join to the push, body intact', async () => {
    const r = await relay();
    try {
      const body = `MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ORU^R01|BIG1|P|2.5\rOBX|1|ED|PDF^Report||^AP^PDF^Base64^${'QUJD'.repeat(100_000)}\r`;
      const res = await hub.api('POST', `/agents/${r.agentId}/push`, { destination: 'lab', body, waitForResponse: false });
      expect(res.status).toBe(202);
      const chunks = await until(() => {
        const got = r.messages.filter((m) => m.type === 'chunk') as CloudChunkMessage[];
        return got.length > 0 && got.length === got[0].count && got;
      });
      const assembler = new ChunkAssembler();
      const joined = chunks.map((c) => assembler.add(c)).find((j) => j.complete);
      expect(joined?.complete).toBe(true);
      const push = JSON.parse((joined as { text: string }).text) as Record<string, unknown>;
      expect(push).toMatchObject({ type: 'push', pushId: res.body.pushId, destination: 'lab' });
      expect(sha256Hex(Buffer.from(push.body as string))).toBe(sha256Hex(Buffer.from(body)));
    } finally {
      await r.close();
    }
  });

  it("joins a relay's chunks (written by the relay's CloudConnection) and the core's validator sees the whole message", async () => {
    const { agentId, secret } = await newAgent();
    const log = memoryLogger();
    const conn = new CloudConnection({
      url: hub.wsUrl,
      agentId,
      secret,
      heartbeatIntervalMs: 60_000,
      heartbeatTimeoutMs: 20_000,
      maxConnectionAgeMs: 60 * 60_000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      heartbeat: JSON.stringify({ action: 'heartbeat', v: 1 }),
      logger: log.logger,
    });
    const got: Record<string, unknown>[] = [];
    conn.on('message', (text) => got.push(JSON.parse(text) as Record<string, unknown>));
    conn.start();
    try {
      await until(() => conn.isOpen);
      const inbound = (channel: string) =>
        JSON.stringify({
          action: 'inbound',
          v: 2,
          inboundId: `in-${channel}`,
          channel,
          contentType: 'x-application/hl7-v2+er7',
          body: `MSH|^~\\&|LAB||||20260101||ORU^R01|C1|P|2.5\rOBX|1|ED|PDF||^AP^PDF^Base64^${'JVBERi0xLjQK'.repeat(60_000)}\r`,
          receivedAt: 1767225600000,
          ack: 'fast',
        });
      // An invalid channel name: only the validator, after joining all ~720 KB, can say so.
      const bad = inbound('not a channel!');
      expect(Buffer.byteLength(bad)).toBeGreaterThan(5 * MAX_MESSAGE_BYTES);
      expect(conn.send(bad)).toBe(true);
      const invalid = await until(() => got.find((m) => m.type === 'error'));
      expect(invalid).toMatchObject({ code: 'INVALID_MESSAGE', error: 'channel must be a channel name' });
      // A valid inbound message passes the validator whole. Until the cloud's inbound service is
      // merged the core answers that it does not handle it (UNKNOWN_ACTION); never a size or chunk error.
      expect(conn.send(inbound('lab-results'))).toBe(true);
      const answer = await until(() => got.find((m) => m !== invalid && (m.type === 'error' || m.type === 'inboundAck')));
      expect(answer.type === 'inboundAck' || ['UNKNOWN_ACTION', 'UNKNOWN_CHANNEL'].includes(answer.code as string)).toBe(true);
      expect(JSON.stringify(answer)).not.toMatch(/MESSAGE_TOO_LARGE|CHUNK_/);
      expect(budget.inUse).toBe(0);
    } finally {
      await conn.stop();
    }
  });

  it('answers bad chunks with CHUNK_INVALID and still joins the message they were mixed into', async () => {
    const r = await relay();
    try {
      const good = relayWireMessages(bigHeartbeat(), 'good');
      expect(good.length).toBeGreaterThan(2);
      const parts = splitMessage(bigHeartbeat(), { chunkId: 'tampered' }).map((p) => ({ action: 'chunk', v: 2, ...p }));
      parts[1] = { ...parts[1], data: Buffer.from('x'.repeat(Buffer.from(parts[1].data, 'base64').length)).toString('base64') };

      r.sendRaw(good[0]);
      r.sendRaw(JSON.stringify({ ...(JSON.parse(good[1]) as object), data: '%%% not base64 %%%' }));
      r.sendRaw(JSON.stringify({ ...(JSON.parse(good[1]) as object), chunkId: 'other', count: 2 })); // 2 parts cannot carry it
      for (const p of parts) r.sendRaw(JSON.stringify(p)); // wrong digest once joined
      for (const part of good.slice(1)) r.sendRaw(part);
      r.sendRaw(good[1]); // a duplicate after completion

      await until(() => errors(r).length === 4 && r.messages.some((m) => m.type === 'heartbeatAck'));
      expect(errors(r).map((e) => e.code)).toStrictEqual(['CHUNK_INVALID', 'CHUNK_INVALID', 'CHUNK_INVALID', 'CHUNK_INVALID']);
      const texts = errors(r).map((e) => e.error as string);
      expect(texts.find((t) => t.includes('tampered'))).toMatch(/sha256/);
      expect(texts.some((t) => /not base64/.test(t))).toBe(true);
      expect(texts.some((t) => /arrived after the message was complete/.test(t))).toBe(true);
      expect(r.messages.filter((m) => m.type === 'heartbeatAck')).toHaveLength(1);
      const warn = hub.logLines.filter((l) => l.includes('chunk from relay refused'));
      expect(warn.length).toBe(4);
      expect(warn.join('\n')).not.toContain('ä€');
    } finally {
      await r.close();
    }
  });

  it('refuses a fifth partial message with CHUNK_LIMIT, and a chunk that is not JSON-valid goes to the validator', async () => {
    const r = await relay();
    try {
      for (let i = 0; i < 5; i++) r.sendRaw(relayWireMessages(bigHeartbeat(), `partial-${i}`)[0]);
      r.sendRaw('{"action":"chunk","v":2}');
      await until(() => errors(r).length === 2);
      expect(errors(r).map((e) => e.code)).toStrictEqual(['CHUNK_LIMIT', 'INVALID_MESSAGE']);
      expect(budget.inUse).toBeGreaterThan(0);
    } finally {
      await r.close();
    }
    // Half-sent messages die with their connection.
    await until(() => budget.inUse === 0);
  });

  it('a relay that sends half a message and disconnects leaves nothing; one that stalls gets CHUNK_TIMEOUT', async () => {
    const r = await relay();
    const parts = relayWireMessages(bigHeartbeat(2_000_000), 'half');
    for (const part of parts.slice(0, parts.length / 2)) r.sendRaw(part);
    await until(() => budget.inUse > 0);
    await r.close();
    await until(() => budget.inUse === 0);

    const stalled = await relay();
    try {
      stalled.sendRaw(parts[0]);
      const timeout = await until(() => errors(stalled)[0], TIMEOUT_MS + 3_000);
      expect(timeout).toMatchObject({ code: 'CHUNK_TIMEOUT', error: expect.stringContaining('half') });
      expect(budget.inUse).toBe(0);
    } finally {
      await stalled.close();
    }
  });
});
