/**
 * The core's inbound rules on the in-memory ports and a fake clock: receiving (channel check,
 * store before ACK, dedupe, queueing), one delivery attempt at a time (backoff, the retry
 * period, appAck), sealed webhook secrets and the webhook URL rules.
 */
import { createHmac } from 'node:crypto';
import { createCore, type EdgePushCore } from '../../../lambdas/core/core';
import { DEFAULT_CONFIG, type CoreConfig } from '../../../lambdas/core/core-config';
import { DomainError } from '../../../lambdas/core/domain-errors';
import type { InboundDeliveryOutcome, InboundQueueItem } from '../../../lambdas/core/ports';
import { parseWebhookUrl } from '../../../lambdas/core/webhook-service';
import { openSecret, sealSecret } from '../../../lambdas/core/webhook-secret';
import type { AppAckMessage, ChannelInfo, CloudMessage, InboundAckMessage } from '../../../protocol/messages';
import { memoryPorts, type MemoryPorts } from '../../support/memory-ports';
import { newAgent } from '../../support/records';

const CHANNELS: ChannelInfo[] = [
  { name: 'lab-in', protocol: 'mllp', ack: 'cloud' },
  { name: 'app-in', protocol: 'mllp', ack: 'app' },
];
const config: Partial<CoreConfig> = {
  webhookInitialBackoffMs: 1_000,
  webhookMaxBackoffMs: 4_000,
  webhookRetryPeriodMs: 20_000,
};
const HL7_ACK = 'MSH|^~\\&|APP|H|LAB|D|20240101000000||ACK|A1|P|2.5\rMSA|AA|C1';

let ports: MemoryPorts;
let core: EdgePushCore;
const agentId = 'site-1';

beforeEach(async () => {
  ports = memoryPorts();
  core = createCore(ports, config);
  await ports.agents.create(newAgent({ agentId, channels: CHANNELS }));
  await ports.agents.setConnection(agentId, 'c1', ports.clock.now());
});

/** `controlId` null: a message without MSH-10. */
function inbound(channel: string, ack: string, controlId: string | null = 'C1', inboundId = `in-${Math.random()}`) {
  const msg: Record<string, unknown> = {
    action: 'inbound',
    v: 2,
    inboundId,
    channel,
    contentType: 'x-application/hl7-v2+er7',
    body: `MSH|^~\\&|LAB|DEV|EP|HUB|20240101000000||ORU^R01|${controlId ?? ''}|P|2.5\rOBX|1|NM|GLU||5`,
    receivedAt: ports.clock.now(),
    ack,
  };
  if (controlId !== null) msg.controlId = controlId;
  return msg;
}

/** Sends a relay message through the core and returns what the relay was sent back. */
async function relay(msg: object): Promise<CloudMessage[]> {
  const before = ports.gateway.posts.length;
  await core.relayMessage(agentId, 'c1', JSON.stringify(msg));
  return ports.gateway.posts.slice(before).map((p) => p.message);
}

async function setWebhook(): Promise<string> {
  const { handleHttp } = await import('../../../lambdas/http/router');
  const res = await handleHttp(core, {
    method: 'PUT',
    path: `/agents/${agentId}/webhook`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://app.example/hook' }),
  });
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as { secret: string }).secret;
}

const item = (messageId: string, channel = 'lab-in'): InboundQueueItem => ({ messageId, agentId, channel });

describe('receiving', () => {
  it('refuses a channel the last hello did not name (and every channel after a v1 hello), storing nothing', async () => {
    const [unknown] = await relay(inbound('other', 'cloud'));
    expect(unknown).toMatchObject({ type: 'error', code: 'UNKNOWN_CHANNEL', inboundId: expect.any(String) });
    await relay({ action: 'hello', v: 1, version: '1.0', devices: [] });
    const [afterV1] = await relay(inbound('lab-in', 'cloud'));
    expect(afterV1).toMatchObject({ type: 'error', code: 'UNKNOWN_CHANNEL' });
    expect((await ports.inbound.store.list({ agentId, limit: 10 })).messages).toEqual([]);
  });

  it('takes the channels of a v2 hello', async () => {
    await relay({ action: 'hello', v: 1, version: '2.0', devices: [], channels: [{ name: 'new-in', protocol: 'astm', ack: 'fast' }] });
    expect((await ports.agents.get(agentId))?.channels).toEqual([{ name: 'new-in', protocol: 'astm', ack: 'fast' }]);
    expect((await relay(inbound('new-in', 'fast')))[0].type).toBe('inboundAck');
    expect((await relay(inbound('lab-in', 'cloud', 'C2')))[0]).toMatchObject({ code: 'UNKNOWN_CHANNEL' });
  });

  it('stores, then acks; queues a delivery only when a webhook is set; wakes pull and publishes', async () => {
    const published: string[] = [];
    ports.inbound.events = { publish: (m) => Promise.resolve(void published.push(m.messageId)) };
    let woken = false;
    void ports.inbound.watcher.waitForMessage(agentId, 60_000).then(() => (woken = true));
    const [noHook] = (await relay(inbound('lab-in', 'cloud', 'A'))) as InboundAckMessage[];
    expect(noHook).toMatchObject({ type: 'inboundAck', v: 2, duplicate: false });
    expect((await ports.inbound.store.get(noHook.messageId))?.delivery).toEqual({ status: 'none', attempts: 0 });
    expect(ports.inbound.queue.size()).toBe(0);
    await setWebhook();
    const [withHook] = (await relay(inbound('lab-in', 'cloud', 'B'))) as InboundAckMessage[];
    expect((await ports.inbound.store.get(withHook.messageId))?.delivery.status).toBe('pending');
    expect(ports.inbound.queue.receive()).toEqual(item(withHook.messageId));
    expect(published).toStrictEqual([noHook.messageId, withHook.messageId]);
    await Promise.resolve();
    expect(woken).toBe(true);
  });

  it('acks even when publishing the event fails (it is stored: that is what the ack means)', async () => {
    ports.inbound.events = { publish: () => Promise.reject(new Error('bus down')) };
    const [ack] = await relay(inbound('lab-in', 'cloud'));
    expect(ack.type).toBe('inboundAck');
    expect(ports.log.entries.some((e) => e.msg === 'publishing the inbound event failed')).toBe(true);
  });

  it('answers INTERNAL with the inboundId when the store fails, and stores nothing', async () => {
    ports.inbound.store.put = () => Promise.reject(new Error('disk'));
    const msg = inbound('lab-in', 'cloud');
    const [answer] = await relay(msg);
    expect(answer).toMatchObject({ type: 'error', code: 'INTERNAL', inboundId: msg.inboundId });
  });

  it('dedupes by MSH-10 and, without one, by the relay id; a duplicate still pending is queued again', async () => {
    await setWebhook();
    const [first] = (await relay(inbound('lab-in', 'cloud', 'X1', 'r1'))) as InboundAckMessage[];
    const [byControl] = (await relay(inbound('lab-in', 'cloud', 'X1', 'r2'))) as InboundAckMessage[];
    expect(byControl).toMatchObject({ duplicate: true, messageId: first.messageId, inboundId: 'r2' });
    const [noId] = (await relay(inbound('lab-in', 'cloud', null, 'r3'))) as InboundAckMessage[];
    const [noIdAgain] = (await relay(inbound('lab-in', 'cloud', null, 'r3'))) as InboundAckMessage[];
    expect(noIdAgain).toMatchObject({ duplicate: true, messageId: noId.messageId });
    expect((await ports.inbound.store.get(noId.messageId))?.dedupeKey).toBe('relay:r3');
    expect(ports.inbound.queue.size()).toBe(2);
  });

  it('an app channel without a webhook is told at once that no application ACK will come', async () => {
    const replies = await relay(inbound('app-in', 'app'));
    expect(replies.map((r) => r.type)).toStrictEqual(['inboundAck', 'appAck']);
    expect((replies[1] as AppAckMessage).error).toMatch(/no webhook/);
  });
});

describe('delivering', () => {
  async function stored(channel = 'lab-in', ack = 'cloud', controlId = 'C1'): Promise<string> {
    const [reply] = (await relay(inbound(channel, ack, controlId))) as InboundAckMessage[];
    return reply.messageId;
  }

  it('POSTs the signed message view and marks it delivered on a 2xx', async () => {
    const secret = await setWebhook();
    const id = await stored();
    expect(await core.deliverInbound(item(id))).toEqual({ outcome: 'done' });
    const [post] = ports.inbound.sender.posts;
    expect(post.url).toBe('https://app.example/hook');
    expect(post.headers['EdgePush-Message-Id']).toBe(id);
    const t = Math.floor(ports.clock.now() / 1000);
    const v1 = createHmac('sha256', secret).update(`${t}.${post.body}`).digest('hex');
    expect(post.headers['EdgePush-Signature']).toBe(`t=${t},v1=${v1}`);
    expect(JSON.parse(post.body)).toMatchObject({ messageId: id, channel: 'lab-in', controlId: 'C1', parsed: { format: 'hl7v2' } });
    expect((await ports.inbound.store.get(id))?.delivery).toEqual({
      status: 'delivered',
      attempts: 1,
      lastAttemptAt: ports.clock.now(),
      deliveredAt: ports.clock.now(),
    });
    expect(await core.deliverInbound(item(id))).toEqual({ outcome: 'done' }); // a repeat of the item: nothing sent
    expect(ports.inbound.sender.posts).toHaveLength(1);
  });

  it('backs off exponentially up to the cap, then fails for good after the retry period', async () => {
    await setWebhook();
    const id = await stored();
    const outcomes: InboundDeliveryOutcome[] = [];
    for (let i = 0; i < 10; i++) {
      ports.inbound.sender.script({ status: 500, body: '' });
      const outcome = await core.deliverInbound(item(id));
      outcomes.push(outcome);
      if (outcome.outcome === 'done') break;
      ports.clock.advance(outcome.delayMs);
    }
    expect(outcomes).toStrictEqual([
      { outcome: 'retry', delayMs: 1000 },
      { outcome: 'retry', delayMs: 2000 },
      { outcome: 'retry', delayMs: 4000 },
      { outcome: 'retry', delayMs: 4000 },
      { outcome: 'retry', delayMs: 4000 },
      { outcome: 'retry', delayMs: 4000 },
      { outcome: 'done' },
    ]);
    expect((await ports.inbound.store.get(id))?.delivery).toMatchObject({ status: 'failed', attempts: 7, lastError: 'HTTP 500' });
  });

  it('records a network error or timeout as lastError and retries', async () => {
    await setWebhook();
    const id = await stored();
    ports.inbound.sender.script(new Error('timed out after 10000 ms'));
    expect(await core.deliverInbound(item(id))).toEqual({ outcome: 'retry', delayMs: 1000 });
    expect((await ports.inbound.store.get(id))?.delivery).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'timed out after 10000 ms',
      nextAttemptAt: ports.clock.now() + 1000,
    });
  });

  it("app channel: the first failure tells the relay at once; the later HL7 answer is the device's ACK", async () => {
    await setWebhook();
    const id = await stored('app-in', 'app');
    ports.inbound.sender.script(
      { status: 502, body: '' },
      { status: 200, contentType: 'x-application/hl7-v2+er7; charset=utf-8', body: HL7_ACK },
    );
    await core.deliverInbound(item(id, 'app-in'));
    await core.deliverInbound(item(id, 'app-in'));
    const acks = ports.gateway.posts.map((p) => p.message).filter((m): m is AppAckMessage => m.type === 'appAck');
    expect(acks.map((a) => [a.messageId, a.response, a.error?.slice(0, 35)])).toStrictEqual([
      [id, undefined, 'the webhook did not accept the mess'],
      [id, HL7_ACK, undefined],
    ]);
    expect((await ports.inbound.store.get(id))?.delivery.appAck).toBe(HL7_ACK);
    // The device re-sends: the known ACK goes back at once, with the new inboundId.
    const replies = await relay(inbound('app-in', 'app', 'C1', 'again'));
    expect(replies).toMatchObject([
      { type: 'inboundAck', duplicate: true, messageId: id },
      { type: 'appAck', inboundId: 'again', response: HL7_ACK },
    ]);
  });

  it('app channel: a 2xx without an HL7 ACK is delivered, and the relay gets an error', async () => {
    await setWebhook();
    const id = await stored('app-in', 'app');
    ports.inbound.sender.script({ status: 200, contentType: 'application/json', body: '{}' });
    expect(await core.deliverInbound(item(id, 'app-in'))).toEqual({ outcome: 'done' });
    const appAck = ports.gateway.posts.map((p) => p.message).find((m) => m.type === 'appAck') as AppAckMessage;
    expect(appAck.error).toMatch(/application\/json, not an HL7 ACK/);
    expect((await ports.inbound.store.get(id))?.delivery.status).toBe('delivered');
  });

  it('deleting the agent deletes its webhook, so a new agent of that id does not inherit it', async () => {
    await setWebhook();
    const { deleteAgent } = await import('../../../lambdas/core/agent-lifecycle');
    await deleteAgent(ports, agentId);
    expect(await ports.inbound.webhooks.get(agentId)).toBeUndefined();
  });

  it('a webhook deleted before delivery leaves the message for pull', async () => {
    await setWebhook();
    const id = await stored();
    await ports.inbound.webhooks.delete(agentId);
    expect(await core.deliverInbound(item(id))).toEqual({ outcome: 'done' });
    expect((await ports.inbound.store.get(id))?.delivery).toMatchObject({ status: 'none', lastError: expect.stringMatching(/deleted/) });
    expect(ports.inbound.sender.posts).toHaveLength(0);
  });

  it('turns a store failure into a retry, never a throw', async () => {
    ports.inbound.store.get = () => Promise.reject(new Error('store down'));
    expect(await core.deliverInbound(item('m1'))).toEqual({ outcome: 'retry', delayMs: 1000 });
  });
});

describe('webhook secrets and URLs', () => {
  const key = Buffer.alloc(32, 9);

  it('seal and open round-trip; another agent, another key or a changed byte does not open', () => {
    const sealed = sealSecret('whsec_abc', 'a1', key);
    expect(sealed).not.toContain('whsec_abc');
    expect(openSecret(sealed, 'a1', key)).toBe('whsec_abc');
    expect(() => openSecret(sealed, 'a2', key)).toThrow();
    expect(() => openSecret(sealed, 'a1', Buffer.alloc(32, 8))).toThrow();
    const [v, iv, data, tag] = sealed.split('.');
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    expect(() => openSecret([v, iv, flipped.toString('base64url'), tag].join('.'), 'a1', key)).toThrow();
    expect(() => openSecret('garbage', 'a1', key)).toThrow(/unknown format/);
  });

  const rows: [string, boolean, string | RegExp][] = [
    ['https://app.example/hook', false, 'https://app.example/hook'],
    ['http://localhost:8080/hook', true, 'http://localhost:8080/hook'],
    ['http://127.0.0.1/hook', true, 'http://127.0.0.1/hook'],
    ['http://[::1]:9/h', true, 'http://[::1]:9/h'],
    ['http://localhost:8080/hook', false, /allowed on the hub only/],
    ['http://app.example/hook', true, /must be https/],
    ['http://localhost.evil.example/hook', true, /must be https/],
    ['ftp://app.example/x', true, /not ftp:/],
    ['https://user:pw@app.example/x', true, /user name or password/],
    ['https://app.example/x#frag', true, /fragment/],
    ['/relative', true, /not an absolute URL/],
    [`https://app.example/${'x'.repeat(2048)}`, true, /at most 2048/],
  ];
  it.each(rows.map(([url, local, expected]) => [url.slice(0, 48), local, url, expected] as const))(
    '%s (local http allowed: %s)',
    (_label, allowLocalHttpWebhooks, url, expected) => {
      if (typeof expected === 'string') {
        expect(parseWebhookUrl(url, { allowLocalHttpWebhooks })).toBe(expected);
      } else {
        let err: unknown;
        try {
          parseWebhookUrl(url, { allowLocalHttpWebhooks });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DomainError);
        expect((err as DomainError).code).toBe('INVALID_WEBHOOK_URL');
        expect((err as DomainError).message).toMatch(expected);
      }
    },
  );
});

it('the default config is what the report says', () => {
  expect(DEFAULT_CONFIG).toMatchObject({
    inboundDedupeWindowMs: 86_400_000,
    webhookRetryPeriodMs: 86_400_000,
    allowLocalHttpWebhooks: false,
  });
});
