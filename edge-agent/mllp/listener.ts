/**
 * A device simulator: accepts MLLP connections and ACKs every message with MSA-2 = its MSH-10.
 * Behind `edgepush hl7 listen`, the demo and the tests. Logs message type and control id only,
 * never the body.
 */
import { createServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import pino from 'pino';
import { type ApplicationAckCode, isApplicationAck } from '../../protocol/ack-codes';
import { buildAckFor } from '../../hl7/ack';
import { Hl7Error } from '../../hl7/hl7-errors';
import { readMsh } from '../../hl7/msh';
import { MllpConnection } from './mllp-connection';
import { encodeFrame } from './encoder';
import { decodeText, resolveEncoding } from './encoding';

export interface Hl7ListenerOptions {
  port: number;
  /** Default '127.0.0.1': a simulator should not be reachable from the network unless asked. */
  host?: string;
  /** The code every ACK carries; default 'AA'. */
  ack?: ApplicationAckCode;
  /** Wait this long before each ACK; default 0. */
  delayMs?: number;
  encoding?: string;
  maxFrameBytes?: number;
  logger?: Logger;
  onMessage?: (msg: string) => void;
}

export interface Hl7Listener {
  port: number;
  close(): Promise<void>;
  /** Messages received so far (live). */
  readonly received: number;
}

export async function startHl7Listener(options: Hl7ListenerOptions): Promise<Hl7Listener> {
  const encoding = resolveEncoding(options.encoding);
  const ackCode = options.ack ?? 'AA';
  if (!isApplicationAck(ackCode)) throw new RangeError(`ack must be AA, AE or AR, got ${String(ackCode)}`);
  const delayMs = options.delayMs ?? 0;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delayMs must be 0 or more, got ${delayMs}`);
  const logger = options.logger ?? pino({ enabled: false });
  // Checked once: building the log object per message costs even when the level drops it.
  const logEachMessage = logger.isLevelEnabled('info');
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let received = 0;

  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    const onFrame = (payload: Buffer) => {
      received++;
      let ack: string;
      try {
        // Only MSH is needed to answer, so only MSH is decoded unless onMessage wants the whole text.
        const msh = readMsh(decodeText(firstSegment(payload), encoding));
        if (logEachMessage)
          logger.info({ remote: conn.remote, messageType: msh.messageType, controlId: msh.controlId }, 'message received');
        ack = msh.controlId ? buildAckFor(msh, ackCode) : buildAckFor(msh, 'AR', 'MSH-10 (message control id) is empty');
      } catch (err) {
        // Without an MSH there is nothing to address an ACK to; say so in the log and move on.
        logger.warn(
          { remote: conn.remote, code: err instanceof Hl7Error ? err.code : 'ERROR' },
          'frame is not an HL7 message; not acknowledged',
        );
        return;
      }
      const frame = encodeFrame(ack, encoding);
      if (options.onMessage) {
        try {
          options.onMessage(decodeText(payload, encoding));
        } catch (err) {
          // A failing callback must not take the socket (or the process) down; the device still gets its ACK.
          logger.error({ remote: conn.remote, err: err instanceof Error ? err.message : String(err) }, 'onMessage callback threw');
        }
      }
      if (delayMs === 0) {
        conn.sendFrame(frame);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        conn.sendFrame(frame);
      }, delayMs);
      timers.add(timer);
    };
    const conn = new MllpConnection(socket, { maxFrameBytes: options.maxFrameBytes, logger, onFrame });
    logger.debug({ remote: conn.remote }, 'connection opened');
    conn.on('close', () => {
      sockets.delete(socket);
      logger.debug({ remote: conn.remote }, 'connection closed');
    });
  };

  const server = createServer(onConnection);
  server.on('error', (err) => logger.error({ err }, 'listener error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    port,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The bytes of the first segment, after any leading blank lines (CR and LF are single bytes in every supported encoding). */
function firstSegment(payload: Buffer): Buffer {
  let start = 0;
  while (start < payload.length && (payload[start] === 0x0d || payload[start] === 0x0a)) start++;
  let end = payload.indexOf(0x0d, start);
  const lf = payload.indexOf(0x0a, start);
  if (end === -1 || (lf !== -1 && lf < end)) end = lf;
  return payload.subarray(start, end === -1 ? payload.length : end);
}
