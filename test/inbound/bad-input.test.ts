/**
 * Bad input on a relay channel (a real relay process, real sockets). None of it stops the
 * channel: after each, a well-behaved device still gets AA and its message reaches the cloud.
 * Nothing complete is dropped silently: a frame that is not HL7 gets AR with the reason.
 */
import net from 'node:net';
import { stopAll, tempDir, type Proc } from '../e2e/harness';
import { FakeCloud } from '../relay/fake-cloud';
import { freePort } from '../support/free-port';
import { sleep, waitFor } from '../support/wait';
import { rssOf, startChannelRelay } from './relay-process';
import { connectSender, msa, oru, type Sender } from './sender';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await stopAll();
});

let cloud: FakeCloud;
let port: number;
let relay: Proc;
let seq = 0;

beforeAll(async () => {
  cloud = await FakeCloud.start();
  cleanups.push(() => cloud.close());
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  port = await freePort();
  relay = await startChannelRelay(
    {
      url: cloud.url,
      dataDir: dir.path,
      channels: { lab: `mllp://127.0.0.1:${port}` },
      config: { inbound: { maxMessageBytes: 4096, idleTimeoutMs: 1_000, maxConnections: 100 } },
    },
    [port],
  );
  await cloud.waitFor(() => cloud.count('hello') > 0, 10_000, 'hello');
});

async function sender(): Promise<Sender> {
  const s = await connectSender(port);
  cleanups.push(() => s.close());
  return s;
}

/** A well-behaved device still gets AA, and its message is stored. */
async function channelStillWorks(storeTimeoutMs = 5_000): Promise<void> {
  const id = `OK-${++seq}`;
  const s = await sender();
  expect(msa(await s.exchange(oru(id)))).toMatchObject({ code: 'AA', controlId: id });
  await cloud.waitFor(() => cloud.stored.some((m) => m.controlId === id), storeTimeoutMs, id);
  s.close();
}

it('skips garbage bytes between frames and answers the frame after them', async () => {
  const s = await sender();
  s.raw(Buffer.from([0x00, 0xff, 0x41, 0x42, 0x0d, 0x0a, 0x1c, 0x0d]));
  expect(msa(await s.exchange(oru('G-1')))).toMatchObject({ code: 'AA', controlId: 'G-1' });
  await channelStillWorks();
});

it('answers AR with the reason for a frame that is not HL7, and stores nothing', async () => {
  const s = await sender();
  const before = cloud.inbound().length;
  const ack = msa(await s.exchange('hello, this is not HL7'));
  expect(ack).toMatchObject({ code: 'AR', controlId: '' });
  expect(ack.text).toMatch(/must start with an MSH segment/);
  const noId = msa(await s.exchange('MSH|^~\\&|A|B|C|D|2025||ORU^R01||P|2.5.1\rPID|1'));
  expect(noId.code).toBe('AR');
  expect(noId.text).toMatch(/MSH-10/);
  // The connection stays usable.
  expect(msa(await s.exchange(oru('G-2')))).toMatchObject({ code: 'AA', controlId: 'G-2' });
  await cloud.waitFor(() => cloud.stored.some((m) => m.controlId === 'G-2'), 5_000, 'G-2');
  expect(
    cloud
      .inbound()
      .slice(before)
      .map((m) => m.controlId),
  ).toStrictEqual(['G-2']);
});

it('answers AR for a frame over the cap, then closes that connection', async () => {
  const s = await sender();
  s.send(oru('BIG-1', { obx: 'x'.repeat(10_000) }));
  await waitFor(() => s.closed, 5_000, 'the relay to close the connection');
  expect(s.frames).toHaveLength(1);
  const ack = msa(s.frames[0]);
  expect(ack.code).toBe('AR');
  expect(ack.text).toMatch(/exceeds the 4096-byte limit/);
  expect(cloud.inbound().some((m) => m.controlId === 'BIG-1')).toBe(false);
  await channelStillWorks();
});

it('drops a frame the device cut off by closing, without acknowledging or storing it', async () => {
  const s = await sender();
  s.raw(`\x0b${oru('CUT-1')}`.slice(0, 60));
  await sleep(100);
  s.close();
  await channelStillWorks();
  expect(cloud.inbound().some((m) => m.controlId === 'CUT-1')).toBe(false);
});

it('closes a device that never reads its ACKs instead of buffering for it', async () => {
  const socket = net.connect({ host: '127.0.0.1', port });
  cleanups.push(() => void socket.destroy());
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.pause(); // never reads
  let closed = false;
  socket.on('close', () => (closed = true));
  // Pipelined messages with a 3 KB MSH-3, which each ACK echoes (in MSH-5), so the ACKs fill
  // the kernel's buffers after a few thousand messages.
  const frame = (i: number): string => `\x0b${oru(`NR-${i}`).replace('|ANALYSER|', `|${'A'.repeat(3000)}|`)}\x1c\r`;
  let i = 0;
  const writer = setInterval(() => {
    for (let n = 0; n < 20 && !closed; n++) socket.write(frame(++i));
  }, 5);
  cleanups.push(() => clearInterval(writer));
  await waitFor(() => closed, 15_000, 'the relay to close the non-reading device');
  clearInterval(writer);
  // What it sent before the relay stopped reading was spooled (and ACKed into the void): it
  // drains to the cloud first, in order, then the next device's message.
  await channelStillWorks(60_000);
  const nr = cloud.stored.filter((m) => m.controlId?.startsWith('NR-')).map((m) => Number(m.controlId!.split('-')[1]));
  expect(nr).toStrictEqual(nr.map((_, k) => k + 1));
});

it('keeps at most maxConnections, closes idle ones, and stays small with 500 idle connections', async () => {
  const sockets: net.Socket[] = [];
  let closedByRelay = 0;
  for (let i = 0; i < 500; i++) {
    const sk = net.connect({ host: '127.0.0.1', port });
    sk.on('error', () => undefined);
    sk.on('close', () => closedByRelay++);
    sockets.push(sk);
  }
  cleanups.push(() => sockets.forEach((sk) => sk.destroy()));
  // Past the cap of 100, the relay drops connections at accept.
  await waitFor(() => closedByRelay >= 400, 10_000, 'connections over the cap to be dropped');
  expect(rssOf(relay.child.pid!)).toBeLessThan(200 * 1024 * 1024);
  // The idle timeout (1 s here) closes the rest.
  await waitFor(() => closedByRelay === 500, 10_000, 'idle connections to be closed');
  await channelStillWorks();
});
