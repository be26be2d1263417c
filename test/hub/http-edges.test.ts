/**
 * The hub's HTTP edges, through a real `edgepush hub` process (issue 9 #12, #14, #15, #16):
 * content types, the body limit measured on what the caller sent, Location behind a proxy,
 * and callers hanging up mid-request.
 */
import { connect } from 'node:net';
import { http, run, stopAll, tempDir, token as mintToken, type Proc } from '../e2e/harness';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';

const MAX_BODY_BYTES = 100 * 1024;
const PUBLIC_URL = 'https://edgepush.example.org/base';

/** An HL7 message of exactly `bytes` UTF-8 bytes that does not end in CR (normalising adds one). */
function messageOf(bytes: number): string {
  const head = 'MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ORU^R01|BIG1|P|2.5\rOBX|1|TX|||';
  return head + 'x'.repeat(bytes - head.length);
}

describe('hub HTTP edges (edgepush hub process)', () => {
  const dir = tempDir();
  let hub: Proc;
  let url: string;
  let token: string;
  beforeAll(async () => {
    const port = await freePort();
    hub = run([
      'hub',
      '--port',
      String(port),
      '--data',
      dir.path,
      '--log-level',
      'debug',
      '--public-url',
      `${PUBLIC_URL}/`,
      '--max-body-kb',
      String(MAX_BODY_BYTES / 1024),
    ]);
    await hub.waitFor(/Push API:/);
    url = `http://127.0.0.1:${port}`;
    token = await mintToken(dir.path);
    expect((await http(`${url}/agents`, { token, body: { agentId: 'site-1' } })).status).toBe(201);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const push = (body: string) => JSON.stringify({ destination: 'lab', body, waitForResponse: false });

  it.each([
    ['text/plain', 'text/plain;charset=UTF-8'],
    ['no content type', undefined],
    ['form data', 'application/x-www-form-urlencoded'],
  ])('answers 415 for a JSON route sent as %s', async (_name, contentType) => {
    for (const [path, body] of [
      ['/agents/site-1/push', push('MSH|^~\\&|A|B|C|D|2024||ADT^A01|T1|P|2.5\r')],
      ['/agents', '{"agentId":"plain"}'],
    ]) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) },
        // A Buffer, so fetch adds no content type of its own.
        body: Buffer.from(body),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    expect((await http(`${url}/agents/plain`, { token })).status).toBe(404);
  });

  it('accepts application/json with a charset and application/fhir+json on the Medplum route', async () => {
    const res = await fetch(`${url}/agents/site-1/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
      body: push('MSH|^~\\&|A|B|C|D|2024||ADT^A01|T2|P|2.5\r'),
    });
    expect(res.status).toBe(202);
    const fhir = await fetch(`${url}/fhir/R4/Agent/site-1/$push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ destination: 'lab', body: 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|T3|P|2.5\r', waitForResponse: false }),
    });
    expect(fhir.status).toBe(202);
  });

  it('accepts a body of exactly the maximum size, and refuses one byte more', async () => {
    const exact = await http(`${url}/agents/site-1/push`, { token, raw: push(messageOf(MAX_BODY_BYTES)) });
    expect(exact.status).toBe(202);
    const over = await http(`${url}/agents/site-1/push`, { token, raw: push(messageOf(MAX_BODY_BYTES + 1)) });
    expect(over).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('builds Location from --public-url, never from the Host header the caller sent', async () => {
    const res = await new Promise<{ status: number; location?: string }>((resolve, reject) => {
      const body = push('MSH|^~\\&|A|B|C|D|2024||ADT^A01|L1|P|2.5\r');
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => {
        socket.write(
          `POST /agents/site-1/push HTTP/1.1\r\nHost: evil.example.com\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => {
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
        resolve({ status, location: /\r\nlocation: (\S+)\r\n/i.exec(text)?.[1] });
      });
      socket.on('error', reject);
    });
    expect(res.status).toBe(202);
    expect(res.location).toMatch(new RegExp(`^${PUBLIC_URL.replace(/[./]/g, '\\$&')}/pushes/[^/]+$`));
  });

  it('logs a caller that hangs up mid-body at debug, not as a server error', async () => {
    const before = hub.stderr().length;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => {
        socket.write(
          `POST /agents/site-1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"destination":"lab",`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
    const readLines = () =>
      hub
        .stderr()
        .slice(before)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
    const lines = await waitFor(() => {
      const ls = readLines();
      return ls.some((l) => l.msg === 'client disconnected mid-request') ? ls : undefined;
    }, 15_000);
    expect(lines.find((l) => l.msg === 'client disconnected mid-request')).toMatchObject({ level: 20 });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect((await http(`${url}/health`)).status).toBe(200);
  });
});
