/**
 * The fast channel's promise: an ACKed message is on disk. With the cloud down, a device sends
 * 200 messages; the relay is killed (-9) half way and restarted; the cloud comes up: all 200
 * arrive, in order, none twice, and a second restart sends none of them again. A full spool
 * answers AE (the device retries later).
 */
import { stopAll, tempDir, type Proc } from '../e2e/harness';
import { FakeCloud } from '../relay/fake-cloud';
import { freePort } from '../support/free-port';
import { sleep } from '../support/wait';
import { startChannelRelay } from './relay-process';
import { connectSender, msa, oru } from './sender';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await stopAll();
});

async function killHard(p: Proc): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

it('survives kill -9 half way: 200 ACKed messages reach the cloud in order, once each', async () => {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const port = await freePort();
  const cloudPort = await freePort();
  const url = `ws://127.0.0.1:${cloudPort}/ws`;
  const opts = { url, dataDir: dir.path, channels: { lab: `mllp://127.0.0.1:${port}` } };
  const ids = Array.from({ length: 200 }, (_, i) => `K-${String(i + 1).padStart(3, '0')}`);

  let relay = await startChannelRelay(opts, [port]);
  let s = await connectSender(port);
  for (const id of ids.slice(0, 100)) expect(msa(await s.exchange(oru(id)))).toMatchObject({ code: 'AA', controlId: id });
  s.close();
  await killHard(relay);

  relay = await startChannelRelay(opts, [port]);
  s = await connectSender(port);
  cleanups.push(() => s.close());
  for (const id of ids.slice(100)) expect(msa(await s.exchange(oru(id)))).toMatchObject({ code: 'AA', controlId: id });

  const cloud = await FakeCloud.start({ port: cloudPort });
  cleanups.push(() => cloud.close());
  await cloud.waitFor(() => cloud.stored.length === 200, 20_000, 'all 200 stored');
  expect(cloud.inbound().map((m) => m.controlId)).toStrictEqual(ids);
  expect(new Set(cloud.inbound().map((m) => m.inboundId)).size).toBe(200);

  // Acknowledged entries stay acknowledged across a crash: nothing is sent again.
  await sleep(200);
  await killHard(relay);
  relay = await startChannelRelay(opts, [port]);
  await cloud.waitFor(() => cloud.count('hello') >= 2, 10_000, 'the restarted relay');
  await sleep(500);
  expect(cloud.inbound()).toHaveLength(200);
});

it('answers AE when the spool is full, and AA again once the cloud has taken the backlog', async () => {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const port = await freePort();
  const cloudPort = await freePort();
  const opts = {
    url: `ws://127.0.0.1:${cloudPort}/ws`,
    dataDir: dir.path,
    channels: { lab: `mllp://127.0.0.1:${port}` },
    config: { spool: { maxBytes: 64 * 1024 } },
  };
  await startChannelRelay(opts, [port]);
  const s = await connectSender(port);
  cleanups.push(() => s.close());
  const big = 'x'.repeat(8 * 1024);
  const codes: string[] = [];
  for (let i = 1; i <= 10; i++) codes.push(msa(await s.exchange(oru(`F-${i}`, { obx: big }))).code);
  // 64 KB holds seven of these (8 KB body + JSON + record header each).
  expect(codes).toStrictEqual(['AA', 'AA', 'AA', 'AA', 'AA', 'AA', 'AA', 'AE', 'AE', 'AE']);
  expect(msa(s.frames[7]).text).toMatch(/spool is full/);

  const cloud = await FakeCloud.start({ port: cloudPort });
  cleanups.push(() => cloud.close());
  await cloud.waitFor(() => cloud.stored.length === 7, 10_000, 'the backlog');
  expect(msa(await s.exchange(oru('F-8', { obx: big })))).toMatchObject({ code: 'AA', controlId: 'F-8' });
  await cloud.waitFor(() => cloud.stored.length === 8, 10_000, 'F-8');
  expect(cloud.stored.map((m) => m.controlId)).toStrictEqual(['F-1', 'F-2', 'F-3', 'F-4', 'F-5', 'F-6', 'F-7', 'F-8']);
});
