/**
 * Chunking (protocol v2): a serialised message over one WebSocket message's limit (128 KB on API
 * Gateway) travels as `chunk` messages, each carrying base64 of at most CHUNK_DATA_BYTES of the
 * whole message's UTF-8 bytes. The receiver joins them, checks `bytes` and `sha256`, and handles
 * the result as if it had arrived in one piece. No I/O here: both ends (relay, hub, AWS) share it.
 *
 * ChunkAssembler is the receiving side's bounded buffer, one per connection. Each partial
 * message is a small state machine:
 *
 *   (none) --first chunk--> collecting --last part, digest ok--> done (joined text returned)
 *                            |  \--digest or length mismatch--> discarded (CHUNK_INVALID)
 *                            \--timeout--> discarded (CHUNK_TIMEOUT, via onTimeout)
 *
 * A partial reserves its declared `bytes` on its first chunk, so a peer that opens many
 * messages and never finishes them is refused (CHUNK_LIMIT) before it costs memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { CHUNK_DATA_BYTES, MAX_CHUNKED_MESSAGE_BYTES, MAX_MESSAGE_BYTES } from './limits';
import {
  BASE_MESSAGE_VERSION,
  INBOUND_MESSAGE_VERSION,
  ProtocolError,
  type ChunkFields,
  type CloudChunkMessage,
  type ErrorMessage,
  type RelayChunkMessage,
} from './messages';
import { CHUNK_ACTION } from './relay-routes';
import { parseCloudMessage, parseRelayMessage } from './validate';

/** The chunk fields without `v` (the wire wrappers below add it with `action` or `type`). */
export type ChunkPart = Omit<ChunkFields, 'v'>;

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** true when `json` does not fit one WebSocket message and must go as chunks. */
export function needsChunks(json: string, maxMessageBytes = MAX_MESSAGE_BYTES): boolean {
  return utf8Bytes(json) > maxMessageBytes;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Splits a serialised message into chunk parts of `chunkBytes` raw bytes each (base64 in
 * `data`). Byte ranges may cut a UTF-8 character: the receiver joins bytes, not text.
 * Throws MESSAGE_TOO_LARGE over MAX_CHUNKED_MESSAGE_BYTES.
 */
export function splitMessage(json: string, options: { chunkId?: string; chunkBytes?: number } = {}): ChunkPart[] {
  const chunkBytes = options.chunkBytes ?? CHUNK_DATA_BYTES;
  const buf = Buffer.from(json, 'utf8');
  if (buf.length > MAX_CHUNKED_MESSAGE_BYTES) {
    throw new ProtocolError('MESSAGE_TOO_LARGE', `message of ${buf.length} bytes exceeds ${MAX_CHUNKED_MESSAGE_BYTES}`);
  }
  const count = Math.max(1, Math.ceil(buf.length / chunkBytes));
  const chunkId = options.chunkId ?? randomUUID();
  const sha256 = sha256Hex(buf);
  const parts: ChunkPart[] = [];
  for (let index = 0; index < count; index++) {
    const data = buf.subarray(index * chunkBytes, Math.min(buf.length, (index + 1) * chunkBytes)).toString('base64');
    parts.push({ chunkId, index, count, bytes: buf.length, sha256, data });
  }
  return parts;
}

/** What a relay writes for one serialised message: itself when it fits, else `chunk` actions. */
export function relayWireMessages(json: string, chunkId?: string): string[] {
  if (!needsChunks(json)) return [json];
  return splitMessage(json, { chunkId }).map((part) => {
    const msg: RelayChunkMessage = { action: CHUNK_ACTION, v: INBOUND_MESSAGE_VERSION, ...part };
    return JSON.stringify(msg);
  });
}

/** What the cloud posts for one serialised message: itself when it fits, else `chunk` types. */
export function cloudWireMessages(json: string, chunkId?: string): string[] {
  if (!needsChunks(json)) return [json];
  return splitMessage(json, { chunkId }).map((part) => {
    const msg: CloudChunkMessage = { type: 'chunk', v: INBOUND_MESSAGE_VERSION, ...part };
    return JSON.stringify(msg);
  });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes one part's data, strictly: Buffer.from(…, 'base64') silently skips junk. */
export function decodePart(chunk: ChunkPart): Buffer {
  const { data } = chunk;
  if (data.length % 4 !== 0 || !BASE64.test(data)) throw invalid(chunk, 'data is not base64');
  const buf = Buffer.from(data, 'base64');
  if (buf.length === 0 || buf.length > CHUNK_DATA_BYTES) {
    throw invalid(chunk, `a part must carry 1 to ${CHUNK_DATA_BYTES} bytes, not ${buf.length}`);
  }
  return buf;
}

/** Checks that count, bytes and index describe a possible message before anything is kept. */
export function checkShape(chunk: ChunkPart, maxMessageBytes = MAX_CHUNKED_MESSAGE_BYTES): void {
  if (chunk.bytes > maxMessageBytes) {
    throw new ProtocolError('MESSAGE_TOO_LARGE', `chunked message ${chunk.chunkId} of ${chunk.bytes} bytes exceeds ${maxMessageBytes}`);
  }
  if (chunk.count * CHUNK_DATA_BYTES < chunk.bytes || chunk.bytes < chunk.count) {
    throw invalid(chunk, `${chunk.count} parts cannot carry ${chunk.bytes} bytes`);
  }
}

/** Joins the parts (in index order) and checks length and digest; the whole message's text. */
export function joinParts(meta: ChunkPart, parts: readonly Buffer[]): string {
  const whole = Buffer.concat(parts);
  if (whole.length !== meta.bytes) throw invalid(meta, `parts hold ${whole.length} bytes, not the ${meta.bytes} announced`);
  if (sha256Hex(whole) !== meta.sha256) throw invalid(meta, 'sha256 of the joined parts does not match');
  return whole.toString('utf8');
}

function invalid(chunk: Pick<ChunkPart, 'chunkId'>, why: string): ProtocolError {
  return new ProtocolError('CHUNK_INVALID', `chunked message ${chunk.chunkId}: ${why}`);
}

/** Timers the assembler arms: injected so tests run on a fake clock. */
export interface ChunkTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: ChunkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Bytes shared by many assemblers (all connections of a hub), so the total of partial
 * messages is bounded however many relays send at once.
 */
export class ChunkBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  get inUse(): number {
    return this.used;
  }
  reserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

export interface ChunkAssemblerOptions {
  /** Declared bytes of all partial messages of one connection together. */
  maxBytesInFlight?: number;
  /** Partial messages of one connection at once. */
  maxPartials?: number;
  /** A partial message not completed within this time (from its first chunk) is discarded. */
  timeoutMs?: number;
  /** Largest whole message (default MAX_CHUNKED_MESSAGE_BYTES). */
  maxMessageBytes?: number;
  timers?: ChunkTimers;
  /** A budget shared with other assemblers (a process-wide cap), besides maxBytesInFlight. */
  budget?: ChunkBudget;
  /** A partial message was discarded at its timeout: the owner may tell the peer and log it. */
  onTimeout?: (error: ProtocolError, chunkId: string) => void;
}

export const DEFAULT_CHUNK_LIMITS = {
  /** Two whole messages of the largest size: enough for one in flight each way plus a retry. */
  maxBytesInFlight: 2 * MAX_CHUNKED_MESSAGE_BYTES,
  maxPartials: 4,
  /** 10 MB at a slow 1 Mbit/s uplink takes ~80 s; two minutes leaves room. */
  timeoutMs: 120_000,
} as const;

/** Ids of finished messages remembered, so a late duplicate is refused rather than started anew. */
const FINISHED_MEMORY = 64;

interface Partial {
  meta: ChunkPart;
  parts: (Buffer | undefined)[];
  received: number;
  timer: unknown;
}

export type AddResult = { complete: false } | { complete: true; text: string };

export class ChunkAssembler {
  private readonly partials = new Map<string, Partial>();
  private readonly finished = new Set<string>();
  private reserved = 0;
  private readonly maxBytesInFlight: number;
  private readonly maxPartials: number;
  private readonly timeoutMs: number;
  private readonly maxMessageBytes: number;
  private readonly timers: ChunkTimers;

  constructor(private readonly options: ChunkAssemblerOptions = {}) {
    this.maxBytesInFlight = options.maxBytesInFlight ?? DEFAULT_CHUNK_LIMITS.maxBytesInFlight;
    this.maxPartials = options.maxPartials ?? DEFAULT_CHUNK_LIMITS.maxPartials;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHUNK_LIMITS.timeoutMs;
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_CHUNKED_MESSAGE_BYTES;
    this.timers = options.timers ?? REAL_TIMERS;
  }

  /** Declared bytes reserved by partial messages. */
  get bytesInFlight(): number {
    return this.reserved;
  }

  get partialCount(): number {
    return this.partials.size;
  }

  /**
   * Takes one validated chunk. Returns the whole message's text once its last part arrived.
   * Throws ProtocolError: CHUNK_INVALID (a bad, duplicate or inconsistent part: the part is
   * refused; a bad digest or length: the whole message is discarded), CHUNK_LIMIT (no room),
   * MESSAGE_TOO_LARGE.
   */
  add(chunk: ChunkPart): AddResult {
    if (this.finished.has(chunk.chunkId)) throw invalid(chunk, `part ${chunk.index} arrived after the message was complete`);
    const data = decodePart(chunk);
    let partial = this.partials.get(chunk.chunkId);
    if (!partial) {
      checkShape(chunk, this.maxMessageBytes);
      partial = this.open(chunk);
    } else {
      const { meta } = partial;
      if (meta.count !== chunk.count || meta.bytes !== chunk.bytes || meta.sha256 !== chunk.sha256) {
        throw invalid(chunk, `part ${chunk.index} disagrees with the first part on count, bytes or sha256`);
      }
      if (partial.parts[chunk.index] !== undefined) throw invalid(chunk, `part ${chunk.index} arrived twice`);
    }
    partial.parts[chunk.index] = data;
    partial.received++;
    if (partial.received < partial.meta.count) return { complete: false };
    const parts = partial.parts as Buffer[];
    this.close(chunk.chunkId, partial);
    return { complete: true, text: joinParts(partial.meta, parts) };
  }

  /** Drops every partial message (the connection is gone). */
  clear(): void {
    for (const [chunkId, partial] of this.partials) this.close(chunkId, partial, false);
  }

  private open(chunk: ChunkPart): Partial {
    if (this.partials.size >= this.maxPartials) {
      throw new ProtocolError(
        'CHUNK_LIMIT',
        `chunked message ${chunk.chunkId}: ${this.maxPartials} chunked messages are already in flight`,
      );
    }
    if (this.reserved + chunk.bytes > this.maxBytesInFlight) {
      throw new ProtocolError(
        'CHUNK_LIMIT',
        `chunked message ${chunk.chunkId}: its ${chunk.bytes} bytes would exceed the ${this.maxBytesInFlight} bytes allowed in flight`,
      );
    }
    if (this.options.budget && !this.options.budget.reserve(chunk.bytes)) {
      throw new ProtocolError(
        'CHUNK_LIMIT',
        `chunked message ${chunk.chunkId}: the receiver has no room for ${chunk.bytes} more bytes now; try later`,
      );
    }
    const { chunkId, count, bytes, sha256 } = chunk;
    const partial: Partial = {
      meta: { chunkId, index: 0, count, bytes, sha256, data: '' },
      parts: new Array<Buffer | undefined>(count).fill(undefined),
      received: 0,
      timer: this.timers.setTimeout(() => this.expire(chunkId), this.timeoutMs),
    };
    this.partials.set(chunkId, partial);
    this.reserved += bytes;
    return partial;
  }

  private expire(chunkId: string): void {
    const partial = this.partials.get(chunkId);
    if (!partial) return;
    this.close(chunkId, partial, false);
    const error = new ProtocolError(
      'CHUNK_TIMEOUT',
      `chunked message ${chunkId}: ${partial.received} of ${partial.meta.count} parts arrived within ${this.timeoutMs} ms; discarded`,
    );
    this.options.onTimeout?.(error, chunkId);
  }

  private close(chunkId: string, partial: Partial, remember = true): void {
    this.timers.clearTimeout(partial.timer);
    this.partials.delete(chunkId);
    this.reserved -= partial.meta.bytes;
    this.options.budget?.release(partial.meta.bytes);
    if (!remember) return;
    if (this.finished.size >= FINISHED_MEMORY) this.finished.delete(this.finished.values().next().value as string);
    this.finished.add(chunkId);
  }
}

/** Cheap pre-check before parsing: only a text with this in it can be a chunk message. */
export function isChunkCandidate(text: string): boolean {
  return text.includes('"chunk"');
}

/**
 * The relay's `chunk` message, when `raw` is a valid one; anything else (another kind, junk)
 * is undefined and goes on to the receiver's usual path, whose validator answers it.
 */
export function relayChunkOf(raw: string): RelayChunkMessage | undefined {
  if (!isChunkCandidate(raw)) return undefined;
  try {
    const msg = parseRelayMessage(raw);
    return msg.action === CHUNK_ACTION ? msg : undefined;
  } catch {
    return undefined;
  }
}

/** The cloud's `chunk` message, when `raw` is a valid one (as relayChunkOf). */
export function cloudChunkOf(raw: string): CloudChunkMessage | undefined {
  if (!isChunkCandidate(raw)) return undefined;
  try {
    const msg = parseCloudMessage(raw);
    return msg.type === 'chunk' ? msg : undefined;
  } catch {
    return undefined;
  }
}

/** The `error` a receiver answers a refused chunk with (no pushId/inboundId: not known yet). */
export function chunkErrorMessage(err: ProtocolError): ErrorMessage {
  return { type: 'error', v: BASE_MESSAGE_VERSION, code: err.code, error: err.message };
}
