/**
 * A TCP proxy that sits between the relay and the fake cloud and reads the WebSocket frame
 * headers the relay (the client) writes, so a test can see real frame sizes on the wire.
 * The parser is a small state machine: HTTP upgrade request, then frame header, then payload.
 */
import net, { type AddressInfo } from 'node:net';

export interface FrameInfo {
  fin: boolean;
  opcode: number;
  payloadBytes: number;
  /** Header plus payload, as written on the wire. */
  frameBytes: number;
}

type State = 'http' | 'header' | 'payload';

export class ClientFrameParser {
  readonly frames: FrameInfo[] = [];
  private state: State = 'http';
  private buf = Buffer.alloc(0);
  private payloadLeft = 0;

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.state === 'http') {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        this.buf = this.buf.subarray(end + 4);
        this.state = 'header';
      } else if (this.state === 'header') {
        if (this.buf.length < 2) return;
        const b0 = this.buf[0];
        const b1 = this.buf[1];
        let len = b1 & 0x7f;
        let headerBytes = 2;
        if (len === 126) headerBytes += 2;
        else if (len === 127) headerBytes += 8;
        if (b1 & 0x80) headerBytes += 4;
        if (this.buf.length < headerBytes) return;
        if (len === 126) len = this.buf.readUInt16BE(2);
        else if (len === 127) len = Number(this.buf.readBigUInt64BE(2));
        this.frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payloadBytes: len, frameBytes: headerBytes + len });
        this.buf = this.buf.subarray(headerBytes);
        this.payloadLeft = len;
        this.state = 'payload';
      } else {
        const take = Math.min(this.payloadLeft, this.buf.length);
        this.buf = this.buf.subarray(take);
        this.payloadLeft -= take;
        if (this.payloadLeft > 0) return;
        this.state = 'header';
      }
    }
  }
}

export interface FrameMeter {
  port: number;
  parsers: ClientFrameParser[];
  close(): Promise<void>;
}

export function startFrameMeter(upstreamPort: number): Promise<FrameMeter> {
  const parsers: ClientFrameParser[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const parser = new ClientFrameParser();
    parsers.push(parser);
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk) => {
      parser.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        parsers,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
