/**
 * A device that sends to a relay channel, on a plain socket: frames out, every frame the relay
 * answers collected in order (our own decoder reads them). For bad input it can also write raw
 * bytes, stop reading, or hang up mid-frame.
 */
import net from 'node:net';
import { MllpDecoder } from '../../edge-agent/mllp/decoder';
import { waitFor } from '../support/wait';

export interface Sender {
  socket: net.Socket;
  /** Every frame the relay sent, decoded as UTF-8. */
  frames: string[];
  closed: boolean;
  send(text: string): void;
  raw(bytes: Buffer | string): void;
  /** Sends one message and resolves with the next frame the relay answers. */
  exchange(text: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

export function connectSender(port: number): Promise<Sender> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const s: Sender = {
      socket,
      frames: [],
      closed: false,
      send: (text) => socket.write(`\x0b${text}\x1c\r`),
      raw: (bytes) => socket.write(bytes),
      async exchange(text, timeoutMs = 5_000) {
        const n = s.frames.length;
        s.send(text);
        await waitFor(() => s.frames.length > n || s.closed, timeoutMs, 'an ACK');
        if (s.frames.length <= n) throw new Error('the relay closed the connection without answering');
        return s.frames[n];
      },
      close: () => socket.destroy(),
    };
    const decoder = new MllpDecoder({ maxFrameBytes: 16 * 1024 * 1024, onFrame: (p) => s.frames.push(p.toString('utf8')) });
    socket.on('data', (d: Buffer) => decoder.push(d));
    socket.on('close', () => (s.closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(s));
    socket.once('error', reject);
  });
}

/** MSA-1 and MSA-2 and MSA-3 of an ACK. */
export function msa(ack: string): { code: string; controlId: string; text: string } {
  const seg = ack.split(/\r\n|\r|\n/).find((l) => l.startsWith('MSA|')) ?? '';
  const f = seg.split('|');
  return { code: f[1] ?? '', controlId: f[2] ?? '', text: f[3] ?? '' };
}

/** An ORU^R01 with a chosen control id (MSH-15/16 optional). */
export function oru(controlId: string, opts: { accept?: string; app?: string; obx?: string } = {}): string {
  const msh = `MSH|^~\\&|ANALYSER|LAB|EDGEPUSH|HOSP|20250101120000||ORU^R01^ORU_R01|${controlId}|P|2.5.1`;
  const enhanced = opts.accept !== undefined || opts.app !== undefined ? `|||${opts.accept ?? ''}|${opts.app ?? ''}` : '';
  return [`${msh}${enhanced}`, 'PID|1||PAT-1^^^HOSP^MR||PHIMARKER^Jane', `OBX|1|ST|GLU||${opts.obx ?? '5.4'}|mmol/L`].join('\r');
}
