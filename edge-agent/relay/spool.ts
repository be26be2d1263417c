/**
 * The relay's inbound spool: an append-only log on the relay's own disk. A message a device sent
 * is appended and fsynced before the device gets its ACK, so nothing ACKed is lost to a relay
 * `kill -9`, a power cut or a cloud outage; the relay sends entries to the cloud in log order and
 * acknowledges them as the cloud stores them.
 *
 * On disk: segment files `seg-<first seq>.log` holding records
 *   [u32 payload length][u32 crc32 of seq+payload][u64 seq][payload]
 * and a `cursor` file with the highest seq acknowledged contiguously. The cursor may lag after a
 * crash: entries after it are sent again, which the cloud deduplicates by message id. A record cut
 * short by a crash (a torn tail) fails its length or CRC check and is cut off at open; it was
 * never fsynced, so its device never got an ACK.
 *
 * Appends that arrive while an fsync is running are written and synced together (group commit):
 * one client sending sequentially pays one fsync per message; many clients share them.
 */
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  ftruncateSync,
  unlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fdatasync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const HEADER = 16;
/** How long an acknowledgement may wait before the cursor file records it. */
const CURSOR_DELAY_MS = 50;
const SEGMENT = /^seg-(\d{16})\.log$/;

export class SpoolFullError extends Error {
  readonly code = 'SPOOL_FULL';
  constructor(limit: number) {
    super(`the spool holds ${limit} bytes of unsent messages; the device must retry later`);
    this.name = 'SpoolFullError';
  }
}

export interface SpoolOptions {
  /** Unsent bytes (records included) the spool may hold. Past it, append fails with SPOOL_FULL. */
  maxBytes?: number;
  /** A new segment starts past this size; whole segments are deleted once acknowledged. */
  segmentBytes?: number;
  /** false skips fsync: for tests and benchmarks that measure without the disk. Default true. */
  fsync?: boolean;
}

export interface SpoolEntry {
  seq: number;
  payload: Buffer;
}

interface Segment {
  first: number;
  path: string;
  bytes: number;
  /** Last seq in it (first - 1 when empty). */
  last: number;
}

interface Waiting {
  seq: number;
  record: Buffer;
  resolve(seq: number): void;
  reject(err: Error): void;
}

export class Spool {
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly sync: boolean;
  private segments: Segment[] = [];
  private fd = -1;
  private nextSeq = 1;
  private acked = 0;
  private ackedAhead = new Set<number>();
  private unsentBytes = 0;
  /** Bytes per seq still on disk and not acknowledged, to release `unsentBytes` on ack. */
  private sizes = new Map<number, number>();
  private batch: Waiting[] = [];
  private flushing = false;
  private closed = false;
  // Read position for `next()`: the segment index and byte offset of the next unread record.
  private readSeg = 0;
  private readOff = 0;
  private readSeq = 0;
  private cursorTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly dir: string,
    options: SpoolOptions,
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    this.sync = options.fsync ?? true;
  }

  static open(dir: string, options: SpoolOptions = {}): Spool {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const spool = new Spool(dir, options);
    spool.load();
    return spool;
  }

  /** Messages appended and not yet acknowledged. */
  get pending(): number {
    return this.sizes.size;
  }

  get pendingBytes(): number {
    return this.unsentBytes;
  }

  /** Highest seq acknowledged with everything before it. */
  get ackedThrough(): number {
    return this.acked;
  }

  /** Appends one message; resolves with its seq once it is on disk (fsynced). */
  append(payload: Buffer): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the spool is closed'));
    const size = HEADER + payload.length;
    if (this.unsentBytes + size > this.maxBytes) return Promise.reject(new SpoolFullError(this.maxBytes));
    const seq = this.nextSeq++;
    this.unsentBytes += size;
    this.sizes.set(seq, size);
    const record = encode(seq, payload);
    return new Promise<number>((resolve, reject) => {
      this.batch.push({ seq, record, resolve, reject });
      if (!this.flushing) this.flushSoon();
    });
  }

  /**
   * The next entries in log order after those already read, up to `limit`. Reading does not
   * acknowledge: after a reconnect, `rewind()` starts again from the first unacknowledged one.
   */
  next(limit: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    while (out.length < limit && this.readSeg < this.segments.length) {
      const seg = this.segments[this.readSeg];
      if (this.readOff >= seg.bytes) {
        if (this.readSeg === this.segments.length - 1) break;
        this.readSeg++;
        this.readOff = 0;
        continue;
      }
      const entry = this.readAt(seg, this.readOff);
      this.readOff += HEADER + entry.payload.length;
      if (entry.seq <= this.readSeq) continue;
      this.readSeq = entry.seq;
      if (entry.seq <= this.acked || this.ackedAhead.has(entry.seq) || !this.sizes.has(entry.seq)) continue;
      out.push(entry);
    }
    return out;
  }

  /** Starts reading again at the first unacknowledged entry (after a reconnect). */
  rewind(): void {
    this.readSeg = 0;
    this.readOff = 0;
    this.readSeq = this.acked;
  }

  /** The cloud stored entry `seq`. Acks may come in any order; the cursor moves when contiguous. */
  ack(seq: number): void {
    const size = this.sizes.get(seq);
    if (size === undefined) return; // unknown or repeated
    this.sizes.delete(seq);
    this.unsentBytes -= size;
    if (seq !== this.acked + 1) {
      this.ackedAhead.add(seq);
      return;
    }
    this.acked = seq;
    while (this.ackedAhead.delete(this.acked + 1)) this.acked++;
    // At most every CURSOR_DELAY_MS: a file write and a rename per message capped the drain at a
    // few hundred messages a second (BENCHMARKS.md, "Inbound"). A crash inside the delay only
    // sends the last few acknowledged entries again, and the cloud deduplicates them.
    this.cursorTimer ??= setTimeout(() => {
      this.cursorTimer = undefined;
      this.writeCursor();
    }, CURSOR_DELAY_MS);
    this.cursorTimer.unref();
    this.dropAckedSegments();
  }

  /** Waits for appends in progress, then closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.cursorTimer) {
      clearTimeout(this.cursorTimer);
      this.cursorTimer = undefined;
      this.writeCursor();
    }
    while (this.flushing || this.batch.length) await new Promise((r) => setImmediate(r));
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  // ---- writing ----

  private flushSoon(): void {
    this.flushing = true;
    // setImmediate: appends made in the same tick (or while the disk syncs) share one fsync.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.writeBatch(batch)
      .then(
        () => {
          for (const w of batch) w.resolve(w.seq);
        },
        (err: Error) => {
          for (const w of batch) {
            const size = this.sizes.get(w.seq);
            if (size !== undefined) {
              this.sizes.delete(w.seq);
              this.unsentBytes -= size;
            }
            w.reject(err);
          }
        },
      )
      .finally(() => {
        if (this.batch.length) this.flushSoon();
        else this.flushing = false;
      });
  }

  /**
   * Writes into the page cache at once (a memory copy: cheaper than a hop to libuv's threads and
   * back, which cost a sequential sender about 200 microseconds a message under load: BENCHMARKS.md,
   * "Inbound"), then syncs on libuv's threads, so the event loop keeps serving while the disk works.
   */
  private async writeBatch(batch: Waiting[]): Promise<void> {
    let seg = this.segments[this.segments.length - 1];
    if (!seg || seg.bytes >= this.segmentBytes) seg = this.startSegment(batch[0].seq);
    const data = batch.length === 1 ? batch[0].record : Buffer.concat(batch.map((w) => w.record));
    const fd = this.fd;
    try {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
      if (this.sync) await fdatasyncAsync(fd);
    } catch (err) {
      // Nothing of a failed batch may count as written: cut the segment back to where it was.
      try {
        ftruncateSync(fd, seg.bytes);
      } catch {
        // The next open's CRC check drops whatever is left.
      }
      throw err;
    }
    seg.bytes += data.length;
    seg.last = batch[batch.length - 1].seq;
  }

  private startSegment(first: number): Segment {
    if (this.fd >= 0) closeSync(this.fd);
    const path = join(this.dir, `seg-${String(first).padStart(16, '0')}.log`);
    this.fd = openSync(path, 'a+', 0o600);
    if (this.sync) this.syncDir();
    const seg = { first, path, bytes: 0, last: first - 1 };
    this.segments.push(seg);
    return seg;
  }

  private writeCursor(): void {
    // Not fsynced: a cursor lost in a crash only sends acknowledged entries again (deduplicated).
    const tmp = join(this.dir, 'cursor.tmp');
    writeFileSync(tmp, String(this.acked), { mode: 0o600 });
    renameSync(tmp, join(this.dir, 'cursor'));
  }

  private dropAckedSegments(): void {
    // Keep the segment being written; delete older ones whose every entry is acknowledged.
    while (this.segments.length > 1 && this.segments[0].last <= this.acked) {
      unlinkSync(this.segments[0].path);
      this.segments.shift();
      if (this.readSeg > 0) this.readSeg--;
      else this.readOff = 0;
    }
  }

  private syncDir(): void {
    const dfd = openSync(this.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  // ---- reading ----

  private load(): void {
    try {
      this.acked = Number(readFileSync(join(this.dir, 'cursor'), 'utf8')) || 0;
    } catch {
      this.acked = 0;
    }
    const names = readdirSync(this.dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    let lastSeq = this.acked;
    for (const name of names) {
      const path = join(this.dir, name);
      const first = Number(SEGMENT.exec(name)![1]);
      const seg: Segment = { first, path, bytes: 0, last: first - 1 };
      const size = statSync(path).size;
      let off = 0;
      while (off + HEADER <= size) {
        const entry = this.tryReadAt(seg, off, size);
        if (!entry) break;
        off += HEADER + entry.payload.length;
        seg.last = entry.seq;
        lastSeq = Math.max(lastSeq, entry.seq);
        if (entry.seq > this.acked) {
          this.sizes.set(entry.seq, HEADER + entry.payload.length);
          this.unsentBytes += HEADER + entry.payload.length;
        }
      }
      if (off < size) {
        // A torn tail: the crash hit before its fsync, so no device was ACKed for it.
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, off);
        fdatasyncSync(fd);
        closeSync(fd);
      }
      seg.bytes = off;
      this.segments.push(seg);
    }
    this.nextSeq = lastSeq + 1;
    this.readSeq = this.acked;
    if (this.segments.length) this.fd = openSync(this.segments[this.segments.length - 1].path, 'a+', 0o600);
    this.dropAckedSegments();
  }

  private readAt(seg: Segment, off: number): SpoolEntry {
    const entry = this.tryReadAt(seg, off, seg.bytes);
    if (!entry) throw new Error(`spool segment ${seg.path} is corrupt at byte ${off}`);
    return entry;
  }

  private tryReadAt(seg: Segment, off: number, size: number): SpoolEntry | undefined {
    const fd = openSync(seg.path, 'r');
    try {
      const header = Buffer.alloc(HEADER);
      if (readSync(fd, header, 0, HEADER, off) < HEADER) return undefined;
      const length = header.readUInt32LE(0);
      if (off + HEADER + length > size) return undefined;
      const payload = Buffer.alloc(length);
      if (readSync(fd, payload, 0, length, off + HEADER) < length) return undefined;
      const seqBytes = header.subarray(8, 16);
      if (crc32(payload, crc32(seqBytes)) !== header.readUInt32LE(4)) return undefined;
      return { seq: Number(header.readBigUInt64LE(8)), payload };
    } finally {
      closeSync(fd);
    }
  }
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function encode(seq: number, payload: Buffer): Buffer {
  const record = Buffer.allocUnsafe(HEADER + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeBigUInt64LE(BigInt(seq), 8);
  record.writeUInt32LE(crc32(payload, crc32(record.subarray(8, 16))), 4);
  payload.copy(record, HEADER);
  return record;
}
