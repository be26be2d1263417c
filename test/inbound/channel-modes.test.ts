/**
 * Devices send to a real relay process (the dist bundle) on its channels; a scripted cloud
 * stores and answers. Peers we did not write (python-hl7's mllp_send, @medplum/hl7's Hl7Client)
 * get AA, and each message reaches the cloud once, in order. Then each ACK mode's failures:
 * ack=cloud without a cloud, ack=app with the application's error, its silence and its ACK.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { stopAll, tempDir } from '../e2e/harness';
import { FakeCloud } from '../relay/fake-cloud';
import { freePort } from '../support/free-port';
import { sleep, waitFor } from '../support/wait';
import { startChannelRelay } from './relay-process';
import { connectSender, msa, oru, type Sender } from './sender';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await stopAll();
});

async function setup(channels: Record<string, (port: number) => string>, opts: { cloud?: boolean } = {}) {
  const cloud = opts.cloud === false ? undefined : await FakeCloud.start();
  if (cloud) cleanups.push(() => cloud.close());
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const ports: Record<string, number> = {};
  const urls: Record<string, string> = {};
  for (const [name, url] of Object.entries(channels)) {
    ports[name] = await freePort();
    urls[name] = url(ports[name]);
  }
  const url = cloud?.url ?? `ws://127.0.0.1:${await freePort()}/ws`;
  const relay = await startChannelRelay({ url, dataDir: dir.path, channels: urls }, Object.values(ports));
  return { cloud, ports, relay, url, dir };
}

async function sender(port: number): Promise<Sender> {
  const s = await connectSender(port);
  cleanups.push(() => s.close());
  return s;
}

describe('peers we did not write, on a fast channel', () => {
  it('mllp_send and Hl7Client get AA; the cloud gets each message once, in order', async () => {
    const { cloud, ports, dir } = await setup({ lab: (p) => `mllp://127.0.0.1:${p}` });
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    expect(cloud!.received.find((m) => m.action === 'hello')).toMatchObject({ channels: [{ name: 'lab', protocol: 'mllp', ack: 'fast' }] });

    // python-hl7 reads MLLP frames from a file (its stdin mode breaks on Python 3), sends each
    // and prints each ACK.
    const file = join(dir.path, 'messages.mllp');
    writeFileSync(file, ['PY-1', 'PY-2', 'PY-3'].map((id) => `\x0b${oru(id)}\x1c\r`).join(''));
    const py = spawnSync('mllp_send', ['--port', String(ports.lab), '--file', file, '127.0.0.1'], { encoding: 'utf8', timeout: 15_000 });
    expect({ status: py.status, stderr: py.stderr }).toStrictEqual({ status: 0, stderr: '' });
    expect([...py.stdout.matchAll(/MSA\|(\w+)\|([\w-]+)/g)].map((m) => `${m[1]} ${m[2]}`)).toStrictEqual(['AA PY-1', 'AA PY-2', 'AA PY-3']);

    const client = new Hl7Client({ host: '127.0.0.1', port: ports.lab });
    cleanups.push(() => client.close());
    for (const id of ['MP-1', 'MP-2', 'MP-3']) {
      const ack = await client.sendAndWait(Hl7Message.parse(oru(id)));
      expect([ack.getSegment('MSA')?.getField(1)?.toString(), ack.getSegment('MSA')?.getField(2)?.toString()]).toStrictEqual(['AA', id]);
    }

    await cloud!.waitFor(() => cloud!.stored.length === 6, 10_000, 'six stored');
    expect(cloud!.inbound().map((m) => m.controlId)).toStrictEqual(['PY-1', 'PY-2', 'PY-3', 'MP-1', 'MP-2', 'MP-3']);
    const first = cloud!.inbound()[0];
    expect(first).toMatchObject({ channel: 'lab', ack: 'fast', contentType: 'x-application/hl7-v2+er7', messageType: 'ORU^R01' });
    expect(first.body).toBe(oru('PY-1'));
  });

  it('answers CA, not AA, when MSH-15 asks for enhanced acknowledgement', async () => {
    const { cloud, ports } = await setup({ lab: (p) => `mllp://127.0.0.1:${p}` });
    const s = await sender(ports.lab);
    expect(msa(await s.exchange(oru('E-1', { accept: 'AL', app: 'NE' })))).toMatchObject({ code: 'CA', controlId: 'E-1' });
    await cloud!.waitFor(() => cloud!.stored.length === 1, 5_000, 'stored');
  });
});

describe('ack=cloud', () => {
  it('answers AA once the cloud stored it', async () => {
    const { cloud, ports } = await setup({ adt: (p) => `mllp://127.0.0.1:${p}?ack=cloud&timeout=2s` });
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    const s = await sender(ports.adt);
    expect(msa(await s.exchange(oru('C-1')))).toMatchObject({ code: 'AA', controlId: 'C-1' });
    expect(cloud!.stored.map((m) => [m.controlId, m.ack])).toStrictEqual([['C-1', 'cloud']]);
  });

  it('answers AE within the timeout when there is no cloud, and does not send it later', async () => {
    const { ports, url } = await setup({ adt: (p) => `mllp://127.0.0.1:${p}?ack=cloud&timeout=1s` }, { cloud: false });
    const s = await sender(ports.adt);
    const started = Date.now();
    const ack = msa(await s.exchange(oru('C-2'), 5_000));
    expect(ack).toMatchObject({ code: 'AE', controlId: 'C-2' });
    expect(ack.text).toMatch(/did not confirm storing it within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);

    // The cloud comes up: the refused message is the device's to send again, not the relay's.
    const cloud = await FakeCloud.start({ port: Number(new URL(url).port) });
    cleanups.push(() => cloud.close());
    await cloud.waitFor(() => cloud.count('hello') > 0, 10_000, 'hello');
    await sleep(500);
    expect(cloud.inbound()).toStrictEqual([]);
    expect(msa(await s.exchange(oru('C-2')))).toMatchObject({ code: 'AA', controlId: 'C-2' });
    expect(cloud.stored.map((m) => m.controlId)).toStrictEqual(['C-2']);
  });

  it('answers AE with the reason when the cloud refuses it (error with the inboundId)', async () => {
    const { cloud, ports } = await setup({ adt: (p) => `mllp://127.0.0.1:${p}?ack=cloud&timeout=5s` });
    cloud!.inboundReply = (m) => JSON.stringify({ type: 'error', v: 2, code: 'UNKNOWN_CHANNEL', error: 'no', inboundId: m.inboundId });
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    const s = await sender(ports.adt);
    const ack = msa(await s.exchange(oru('C-3')));
    expect(ack).toMatchObject({ code: 'AE', controlId: 'C-3' });
    expect(ack.text).toMatch(/UNKNOWN_CHANNEL/);
  });
});

describe('ack=app', () => {
  const appAck = (id: string, code: string) =>
    `MSH|^~\\&|APP|CLOUD|ANALYSER|LAB|20250101120001||ACK^R01^ACK|APP-${id}|P|2.5.1\rMSA|${code}|${id}|from the app\r`;

  it("forwards the application's ACK verbatim", async () => {
    const { cloud, ports } = await setup({ res: (p) => `mllp://127.0.0.1:${p}?ack=app&timeout=3s` });
    cloud!.appReply = (m) => ({ response: appAck(m.controlId!, 'AA') });
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    const s = await sender(ports.res);
    expect(await s.exchange(oru('A-1'))).toBe(appAck('A-1', 'AA'));
  });

  it("the application's error reaches the device as AE", async () => {
    const { cloud, ports } = await setup({ res: (p) => `mllp://127.0.0.1:${p}?ack=app&timeout=3s` });
    cloud!.appReply = () => ({ error: 'webhook answered 500' });
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    const s = await sender(ports.res);
    const ack = msa(await s.exchange(oru('A-2')));
    expect(ack).toMatchObject({ code: 'AE', controlId: 'A-2' });
    expect(ack.text).toMatch(/webhook answered 500/);
  });

  it('answers AE at the timeout when the application does not answer', async () => {
    const { cloud, ports } = await setup({ res: (p) => `mllp://127.0.0.1:${p}?ack=app&timeout=1s` });
    cloud!.appReply = () => undefined;
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    const s = await sender(ports.res);
    const started = Date.now();
    const ack = msa(await s.exchange(oru('A-3')));
    expect(ack).toMatchObject({ code: 'AE', controlId: 'A-3' });
    expect(ack.text).toMatch(/no application ACK within 1000 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(cloud!.stored.map((m) => m.controlId)).toStrictEqual(['A-3']);
  });

  it('enhanced mode: CA when stored, then the application ACK as MSH-16 asks', async () => {
    const { cloud, ports } = await setup({ res: (p) => `mllp://127.0.0.1:${p}?ack=app&timeout=3s` });
    cloud!.appReply = (m) => ({ response: appAck(m.controlId!, 'AA') });
    await cloud!.waitFor(() => cloud!.count('hello') > 0, 10_000, 'hello');
    const s = await sender(ports.res);
    s.send(oru('A-4', { accept: 'AL', app: 'AL' }));
    await waitFor(() => s.frames.length >= 2, 5_000, 'two frames');
    expect(msa(s.frames[0])).toMatchObject({ code: 'CA', controlId: 'A-4' });
    expect(s.frames[1]).toBe(appAck('A-4', 'AA'));
  });
});
