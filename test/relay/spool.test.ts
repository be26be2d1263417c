/** The relay's inbound spool on a real disk: order, bounds, restarts, torn tails and kill -9. */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, SpoolFullError } from '../../edge-agent/relay/spool';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgepush-spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const msg = (i: number) => Buffer.from(JSON.stringify({ messageId: `m${i}`, body: `MSH|^~\\&|LAB|${i}` }));
const texts = (entries: { payload: Buffer }[]) => entries.map((e) => JSON.parse(e.payload.toString()).messageId as string);

describe('Spool', () => {
  it('gives entries back in append order and forgets them once acknowledged', async () => {
    const spool = Spool.open(dir);
    const seqs = await Promise.all([1, 2, 3].map((i) => spool.append(msg(i))));
    expect(seqs).toEqual([1, 2, 3]);
    expect(spool.pending).toBe(3);
    const read = spool.next(10);
    expect(texts(read)).toStrictEqual(['m1', 'm2', 'm3']);
    expect(spool.next(10)).toEqual([]);
    spool.ack(1);
    spool.ack(2);
    expect(spool.pending).toBe(1);
    expect(spool.ackedThrough).toBe(2);
    await spool.close();
  });

  it('keeps unacknowledged entries across a restart, and numbering goes on', async () => {
    const first = Spool.open(dir);
    for (let i = 1; i <= 5; i++) await first.append(msg(i));
    first.next(5);
    first.ack(1);
    first.ack(2);
    await first.close();

    const again = Spool.open(dir);
    expect(again.pending).toBe(3);
    expect(texts(again.next(10))).toStrictEqual(['m3', 'm4', 'm5']);
    expect(await again.append(msg(6))).toBe(6);
    await again.close();
  });

  it('moves the cursor only over contiguous acknowledgements', async () => {
    const spool = Spool.open(dir);
    for (let i = 1; i <= 4; i++) await spool.append(msg(i));
    spool.ack(3);
    spool.ack(2);
    expect(spool.ackedThrough).toBe(0);
    spool.ack(1);
    expect(spool.ackedThrough).toBe(3);
    spool.ack(3); // a repeat changes nothing
    expect(spool.pending).toBe(1);
    await spool.close();
    const again = Spool.open(dir);
    expect(texts(again.next(10))).toStrictEqual(['m4']);
    await again.close();
  });

  it('rewinds to the first unacknowledged entry after a reconnect', async () => {
    const spool = Spool.open(dir);
    for (let i = 1; i <= 3; i++) await spool.append(msg(i));
    expect(texts(spool.next(2))).toStrictEqual(['m1', 'm2']);
    spool.ack(1);
    spool.rewind();
    expect(texts(spool.next(10))).toStrictEqual(['m2', 'm3']);
    await spool.close();
  });

  it('refuses appends past maxBytes with SPOOL_FULL, and takes them again once acknowledged', async () => {
    const one = 16 + msg(1).length;
    const spool = Spool.open(dir, { maxBytes: one * 3 });
    for (let i = 1; i <= 3; i++) await spool.append(msg(i));
    await expect(spool.append(msg(4))).rejects.toBeInstanceOf(SpoolFullError);
    await expect(spool.append(msg(4))).rejects.toMatchObject({ code: 'SPOOL_FULL' });
    spool.ack(1);
    expect(await spool.append(msg(4))).toBe(4);
    await spool.close();
  });

  it('rolls segments and deletes each once every entry in it is acknowledged', async () => {
    const spool = Spool.open(dir, { segmentBytes: 200 });
    for (let i = 1; i <= 20; i++) await spool.append(msg(i));
    const segments = () => readdirSync(dir).filter((n) => n.startsWith('seg-'));
    const before = segments().length;
    expect(before).toBeGreaterThan(3);
    const all = spool.next(100);
    expect(texts(all)).toStrictEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    for (let i = 1; i <= 15; i++) spool.ack(i);
    expect(segments().length).toBeLessThan(before);
    await spool.close();
    const again = Spool.open(dir, { segmentBytes: 200 });
    expect(texts(again.next(100))).toStrictEqual(['m16', 'm17', 'm18', 'm19', 'm20']);
    await again.close();
  });

  it('shares fsyncs between concurrent appends and keeps their order', async () => {
    const spool = Spool.open(dir);
    const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => spool.append(msg(i + 1))));
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(texts(spool.next(300))).toStrictEqual(Array.from({ length: 200 }, (_, i) => `m${i + 1}`));
    await spool.close();
  });

  it('cuts off a torn tail at open: the half-written record never existed', async () => {
    const spool = Spool.open(dir);
    for (let i = 1; i <= 3; i++) await spool.append(msg(i));
    await spool.close();
    const seg = join(
      dir,
      readdirSync(dir).find((n) => n.startsWith('seg-'))!,
    );
    const size = statSync(seg).size;
    // A record header promising 100 bytes, with only 10 written before the crash.
    const torn = Buffer.alloc(26);
    torn.writeUInt32LE(100, 0);
    appendFileSync(seg, torn);

    const again = Spool.open(dir);
    expect(statSync(seg).size).toBe(size);
    expect(texts(again.next(10))).toStrictEqual(['m1', 'm2', 'm3']);
    expect(await again.append(msg(4))).toBe(4);
    await again.close();
  });

  it('drops a record whose checksum does not match (a corrupt sector), and what follows it', async () => {
    const spool = Spool.open(dir);
    for (let i = 1; i <= 3; i++) await spool.append(msg(i));
    await spool.close();
    const seg = join(
      dir,
      readdirSync(dir).find((n) => n.startsWith('seg-'))!,
    );
    const one = 16 + msg(1).length;
    const bytes = require('node:fs').readFileSync(seg) as Buffer;
    bytes[one * 2 + 20] ^= 0xff; // inside the third record's payload
    writeFileSync(seg, bytes);
    const again = Spool.open(dir);
    expect(texts(again.next(10))).toStrictEqual(['m1', 'm2']);
    await again.close();
  });

  it('loses nothing it confirmed when the process is killed with SIGKILL mid-stream', async () => {
    // A child appends as fast as it can and prints each seq once its append resolved (fsynced).
    const script = `
      const { Spool } = require(${JSON.stringify(join(__dirname, '../../edge-agent/relay/spool'))});
      const spool = Spool.open(${JSON.stringify(dir)}, { segmentBytes: 4096 });
      let i = 0;
      const body = (n) => Buffer.from(JSON.stringify({ messageId: 'm' + n, body: 'x'.repeat(n % 300) }));
      (function next() {
        const n = ++i;
        spool.append(body(n)).then((seq) => { process.stdout.write(seq + '\\n'); next(); });
        if (n % 4 === 0) spool.append(body(++i)).then((seq) => process.stdout.write(seq + '\\n'));
      })();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (out.split('\n').length > 150) {
          clearInterval(t);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => child.once('exit', r));
    const confirmed = out
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n));
    expect(confirmed.length).toBeGreaterThan(100);

    const spool = Spool.open(dir, { segmentBytes: 4096 });
    const entries = spool.next(1_000_000);
    const seqs = entries.map((e) => e.seq);
    for (const seq of confirmed) expect(seqs).toContain(seq);
    // Contiguous from 1: no hole before the last record that survived.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const e of entries) expect(JSON.parse(e.payload.toString()).messageId).toBe(`m${e.seq}`);
    await spool.close();
  });
});
