/**
 * Runs an ASTM link over a byte stream: a TCP socket or a serial port. The stream only moves
 * bytes; the link (link.ts) does the protocol, and this file converts text to and from the
 * device's character set.
 */
import type { Duplex } from 'node:stream';
import iconv from 'iconv-lite';
import { AstmLink, type AstmLinkOptions, type LinkEvent } from './link';

export interface LinkStreamOptions extends Partial<Omit<AstmLinkOptions, 'write' | 'onMessage' | 'onEvent'>> {
  role: AstmLinkOptions['role'];
  /** The device's character set (iconv-lite name). Default latin1. */
  encoding?: string;
  onMessage(text: string): void;
  onEvent?(event: LinkEvent): void;
  /** The stream closed or failed: the link is down. */
  onClose?(err?: Error): void;
}

export interface LinkStream {
  readonly link: AstmLink;
  /** Sends one message (records, CR-separated). Resolves when every frame was accepted and EOT sent. */
  send(text: string): Promise<void>;
  close(): void;
}

export function attachLink(stream: Duplex, options: LinkStreamOptions): LinkStream {
  const encoding: string = options.encoding ?? 'latin1';
  if (!iconv.encodingExists(encoding)) throw new Error(`unknown character encoding ${options.encoding}`);
  let closed = false;
  const link = new AstmLink({
    ...options,
    write: (bytes) => {
      if (!stream.destroyed) stream.write(bytes);
    },
    onMessage: (bytes) => options.onMessage(iconv.decode(bytes, encoding)),
    onEvent: (event) => options.onEvent?.(event),
  });
  const down = (err?: Error) => {
    if (closed) return;
    closed = true;
    link.close();
    options.onClose?.(err);
  };
  stream.on('data', (chunk: Buffer) => link.receive(chunk));
  stream.on('error', (err: Error) => down(err));
  stream.on('close', () => down());
  stream.on('end', () => down());
  return {
    link,
    send: (text) => link.send(iconv.encode(text, encoding)),
    close: () => {
      down();
      stream.destroy();
    },
  };
}
