/**
 * The CLI's shared contract (issue 11, "A CLI that behaves the same everywhere"), through the
 * built CLI as a child process: exit codes, durations, `token --init`, log format, `hl7 listen`
 * output and inline `hl7 send`, error hints and `relay --check`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { decodeJwt } from 'jose';
import { ScriptedRelay } from '../core/scripted-relay';
import { http, run, runToEnd, startDevice, startHub, startRelay, stopAll, tempDir, token } from '../e2e/harness';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait';

const dirs: Array<{ remove(): void }> = [];
const servers: Server[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs.splice(0)) d.remove();
});

function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

/** A stand-in API that records what the CLI sent and answers 202 (push accepted). */
async function recordingApi(): Promise<{ url: string; requests: Array<{ path: string; body: Record<string, unknown> }> }> {
  const requests: Array<{ path: string; body: Record<string, unknown> }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ pushId: 'p-1', status: 'queued', attempts: 0 }));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests };
}

const API = ['--api', 'http://127.0.0.1:9', '--token', 't'];

describe('exit codes', () => {
  const commands = [
    ['hub'],
    ['token'],
    ['agent'],
    ['agent', 'create'],
    ['agent', 'get'],
    ['relay'],
    ['push'],
    ['hl7'],
    ['hl7', 'listen'],
    ['hl7', 'send'],
    ['astm', 'listen'],
    ['astm', 'send'],
    ['demo'],
    ['template'],
    ['template', 'put'],
    ['template', 'render'],
    ['template', 'from-sample'],
    [],
  ];
  it.each(commands)('--help of %j lists them and exits 0', async (...cmd) => {
    const r = await runToEnd([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Exit codes:\n {2}0 {2}success\n {2}1 {2}the operation's negative outcome \(NACK, failed, expired\)\n {2}2 {2}usage or configuration error\n {2}3 {2}still in flight/,
    );
  });

  it.each([
    [['push', 'agent-1'], /missing required argument 'destination'/],
    [['push', 'a', 'lab', '--generate-example', '--bogus', ...API], /unknown option '--bogus'/],
    [['hl7', 'send', '127.0.0.1', '2575', '--bogus'], /unknown option '--bogus'/],
    [['hl7', 'listen'], /missing required argument 'port'/],
    [['hl7', 'send', '127.0.0.1', '2575'], /exactly one of --file <file>, --generate-example or the message inline/],
    [['hl7', 'listen', '0', '--ack', 'OK'], /--ack must be AA, AE or AR/],
    [['hl7', 'send', '127.0.0.1', '2575', '--generate-example', '--return-ack', 'x'], /--return-ack must be first or application/],
    [['relay', '--url', 'ws://127.0.0.1:1/ws'], /agent id is required/],
    [['hub', '--port', 'x'], /--port must be 0-65535/],
    [['hub', '--max-body-kb', '20480'], /--max-body-kb must be at most 10240/],
    [['hub', '--dispatch-window', '0'], /--dispatch-window must be a whole number of 1 or more, got 0/],
    [['token', '--scope', 'edgepush/everything', '--init', '--data', '<tmp>'], /--scope: unknown scope edgepush\/everything/],
    [['push', 'a', 'lab', '--generate-example', '--return-ack', 'x', ...API], /--return-ack must be first or application/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
    [['hl7'], /Usage: edgepush hl7/],
  ])('usage error %j exits 2', async (args, why) => {
    const r = await runToEnd(args.map((a) => (a === '<tmp>' ? dir() : a)));
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(why);
  });

  it('a NACK exits 1 and a send that never reached the device exits 1', async () => {
    const device = await startDevice(0, 'AE');
    const nack = await runToEnd(['hl7', 'send', '127.0.0.1', String(device.port), '--generate-example']);
    expect(nack.code).toBe(1);
    expect(nack.stdout).toMatch(/^MSA\|AE\|/m);
    const refused = await runToEnd(['hl7', 'send', '127.0.0.1', String(await freePort()), '--generate-example']);
    expect(refused.code).toBe(1);
  });
});

describe('durations', () => {
  it('push sends --expires-in 2s as 2 seconds and --timeout 5s as 5000 ms; a bare --expires-in is seconds', async () => {
    const api = await recordingApi();
    const target = ['--api', api.url, '--token', 't', '--generate-example', '--no-wait'];
    const r = await runToEnd(['push', 'a', 'lab', ...target, '--expires-in', '2s', '--timeout', '5s']);
    expect(r.code).toBe(0);
    expect(api.requests[0].body).toMatchObject({ expiresIn: 2, waitTimeout: 5000 });
    expect((await runToEnd(['push', 'a', 'lab', ...target, '--expires-in', '2h'])).code).toBe(0);
    expect(api.requests[1].body.expiresIn).toBe(7200);
    expect((await runToEnd(['push', 'a', 'lab', ...target, '--expires-in', '90'])).code).toBe(0);
    expect(api.requests[2].body.expiresIn).toBe(90);
  });

  it.each([
    [['push', 'a', 'lab', '--generate-example', '--expires-in', 'soon', ...API], /--expires-in must be a duration/],
    [['push', 'a', 'lab', '--generate-example', '--expires-in', '500ms', ...API], /--expires-in must be a whole number of seconds/],
    [['push', 'a', 'lab', '--generate-example', '--timeout', 'soon', ...API], /--timeout must be a duration/],
    [['push', 'a', 'lab', '--generate-example', '--timeout', '30s', ...API], /--timeout must be a duration from 0 to 25000 ms \(25s\)/],
    [['hl7', 'send', '127.0.0.1', '2575', '--generate-example', '--timeout', 'soon'], /--timeout must be a duration/],
    [['hl7', 'listen', '0', '--delay', '-5'], /--delay must be a duration/],
    [
      [
        'relay',
        '--check',
        '--url',
        'ws://127.0.0.1:1/ws',
        '--agent',
        'a',
        '--secret',
        's',
        '--device',
        'lab=mllp://127.0.0.1:1',
        '--heartbeat',
        'often',
      ],
      /--heartbeat must be a duration/,
    ],
    [['token', '--init', '--data', '<tmp>', '--ttl', 'forever'], /--ttl must be a duration/],
  ])('%j is a usage error naming the flag', async (args, why) => {
    const r = await runToEnd(args.map((a) => (a === '<tmp>' ? dir() : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(why);
  });

  it('hl7 send --timeout 300ms, hl7 listen --delay 1s, relay --heartbeat 30s and token --ttl 90m are accepted', async () => {
    const device = await startDevice();
    const sent = await runToEnd(['hl7', 'send', '127.0.0.1', String(device.port), '--generate-example', '--timeout', '2s']);
    expect(sent.code).toBe(0);
    const slow = run(['hl7', 'listen', '0', '--delay', '1s', '--quiet']);
    const [, port] = await slow.waitFor(/on 127\.0\.0\.1:(\d+)/);
    const timedOut = await runToEnd(['hl7', 'send', '127.0.0.1', port, '--generate-example', '--timeout', '300ms']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toMatch(/ACK_TIMEOUT/);
    const check = await runToEnd([
      'relay',
      '--check',
      '--url',
      'ws://127.0.0.1:1/ws',
      '--agent',
      'a',
      '--secret',
      's',
      '--device',
      `lab=mllp://127.0.0.1:${device.port}`,
      '--heartbeat',
      '30s',
    ]);
    expect(check.code).toBe(0);
    const data = dir();
    const minted = await runToEnd(['token', '--init', '--data', data, '--ttl', '90m']);
    expect(minted.code).toBe(0);
    const claims = decodeJwt(minted.stdout.trim());
    expect(claims.exp! - claims.iat!).toBe(5400);
  });
});

describe('edgepush token', () => {
  it("refuses to create a signing key without --init, naming the hub's --data; --init creates one", async () => {
    const data = `${dir()}/hub-data`;
    const refused = await runToEnd(['token', '--data', data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no signing key at .*hub-data.*give the hub's --data dir.*--init/);
    expect(refused.stdout).toBe('');
    const created = await runToEnd(['token', '--data', data, '--init']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^ey/);
    // The key is there now: no --init needed.
    expect((await runToEnd(['token', '--data', data])).code).toBe(0);
  });

  it('a token signed by another key gets 401 TOKEN_WRONG_KEY, and the CLI says so (exit 2)', async () => {
    const hub = await startHub(dir());
    const other = dir();
    const foreign = (await runToEnd(['token', '--init', '--data', other])).stdout.trim();
    const res = await fetch(`${hub.url}/agents/x`, { headers: { authorization: `Bearer ${foreign}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'TOKEN_WRONG_KEY', error: expect.stringMatching(/signed by another key/) });
    const cli = await runToEnd(['agent', 'get', 'x', '--api', hub.url, '--token', foreign]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/token signed by another key/);
    // Malformed is still plain UNAUTHORIZED.
    const bad = await fetch(`${hub.url}/agents/x`, { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(await bad.json()).toMatchObject({ code: 'UNAUTHORIZED', error: 'invalid token' });
  });
});

describe('logs', () => {
  it('are JSON lines on stderr by default, readable lines with ISO timestamps with --log-format pretty', async () => {
    const json = run(['hl7', 'listen', '0']);
    const [, port] = await json.waitFor(/on 127\.0\.0\.1:(\d+)/);
    expect((await runToEnd(['hl7', 'send', '127.0.0.1', port, '--generate-example'])).code).toBe(0);
    await waitFor(() => json.stderr().includes('message received'), 5000, 'log line');
    for (const line of json.stderr().trim().split('\n')) expect(JSON.parse(line)).toHaveProperty('level');

    const pretty = run(['hl7', 'listen', '0', '--log-format', 'pretty']);
    const [, port2] = await pretty.waitFor(/on 127\.0\.0\.1:(\d+)/);
    expect((await runToEnd(['hl7', 'send', '127.0.0.1', port2, '--generate-example'])).code).toBe(0);
    await waitFor(() => pretty.stderr().includes('message received'), 5000, 'log line');
    expect(pretty.stderr()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}message received .*controlId=/m);
    expect(pretty.stderr()).not.toMatch(/^\{/m);

    const bad = await runToEnd(['hub', '--log-format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--log-format must be json or pretty/);
  });

  it('the hub logs one "relay connected" per connect, and a refused relay at warn with the agent id it claimed', async () => {
    const data = dir();
    const hub = run(['hub', '--port', '0', '--data', data]);
    const [, api] = await hub.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
    const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
    const jwt = await token(data);
    const created = await runToEnd(['agent', 'create', 'site-1', '--api', api, '--token', jwt]);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    const device = await startDevice();
    startRelay(wsUrl, 'site-1', secret, { lab: device.port });
    await waitFor(() => hub.stderr().includes('"relay connected"'), 10_000, 'relay connected');
    startRelay(wsUrl, 'site-1-typo', 'wrong', { lab: device.port });
    const refused = await waitFor(
      () =>
        hub
          .stderr()
          .split('\n')
          .find((l) => l.includes('relay refused')),
      10_000,
      'refused log',
    );
    expect(JSON.parse(refused)).toMatchObject({ level: 40, agentId: 'site-1-typo' });
    expect(hub.stderr().match(/relay connected/g)).toHaveLength(1);
  });
});

describe('hl7 listen output and inline hl7 send', () => {
  it('listen prints each message (segments on lines, a blank line between); send takes the message inline', async () => {
    const listen = run(['hl7', 'listen', '0']);
    const [, port] = await listen.waitFor(/on 127\.0\.0\.1:(\d+)/);
    const msg = (id: string): string => `MSH|^~\\&|A|B|C|D|20250101000000||ADT^A01|${id}|P|2.5\\rPID|1||${id}`;
    const first = await runToEnd(['hl7', 'send', '127.0.0.1', port, msg('INLINE1')]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^MSA\|AA\|INLINE1/m);
    // Real newlines in the argument work too.
    const second = await runToEnd(['hl7', 'send', '127.0.0.1', port, msg('INLINE2').replace('\\r', '\n')]);
    expect(second.code).toBe(0);
    await listen.waitFor(/PID\|1\|\|INLINE2\n\n/);
    const printed = listen.stdout().split('\n').slice(1).join('\n');
    expect(printed).toBe(
      'MSH|^~\\&|A|B|C|D|20250101000000||ADT^A01|INLINE1|P|2.5\nPID|1||INLINE1\n\n' +
        'MSH|^~\\&|A|B|C|D|20250101000000||ADT^A01|INLINE2|P|2.5\nPID|1||INLINE2\n\n',
    );
    const both = await runToEnd(['hl7', 'send', '127.0.0.1', port, msg('X'), '--generate-example']);
    expect(both.code).toBe(2);
  });

  it('listen --quiet prints only the listening line', async () => {
    const listen = run(['hl7', 'listen', '0', '--quiet']);
    const [, port] = await listen.waitFor(/on 127\.0\.0\.1:(\d+)/);
    expect((await runToEnd(['hl7', 'send', '127.0.0.1', port, '--generate-example'])).code).toBe(0);
    await waitFor(() => listen.stderr().includes('message received'), 5000, 'log line');
    expect(listen.stdout()).toMatch(/^Listening for HL7 over MLLP on [^\n]+\n$/);
  });
});

describe('error hints', () => {
  it('--api without a scheme names the flag; a refused connection asks whether the hub runs there', async () => {
    const noScheme = await runToEnd(['agent', 'get', 'x', '--api', 'localhost:8080', '--token', 't']);
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).toMatch(/--api \(or EDGEPUSH_API\) must be an http:\/\/ or https:\/\/ URL, e\.g\. http:\/\/localhost:8080/);
    const port = await freePort();
    const refused = await runToEnd(['agent', 'get', 'x', '--api', `http://127.0.0.1:${port}`, '--token', 't']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is the hub running at http://127.0.0.1:${port}?`);
  });

  it('a relay URL without /ws, and wss:// against a plain hub, are named in the relay log', async () => {
    const hub = await startHub(dir());
    const base = hub.wsUrl.replace(/\/ws$/, '');
    const noWs = startRelay(base, 'a', 's', { lab: 1 });
    await waitFor(() => /the hub's relay URL ends in \/ws/.test(noWs.stderr()), 10_000, 'no /ws hint');
    const tls = startRelay(hub.wsUrl.replace(/^ws:/, 'wss:'), 'a', 's', { lab: 1 });
    await waitFor(() => /does not speak TLS/.test(tls.stderr()), 10_000, 'TLS hint');
  });
});

describe('relay --check', () => {
  const base = ['relay', '--check', '--url', 'ws://127.0.0.1:1/ws', '--agent', 'a', '--secret', 's'];

  it('tries each device without contacting the cloud: exit 0 when all answer, 1 naming the one that does not', async () => {
    let cloudContacted = false;
    const cloud = createTcpServer((s) => {
      cloudContacted = true;
      s.destroy();
    });
    await new Promise<void>((r) => cloud.listen(0, '127.0.0.1', r));
    const cloudPort = (cloud.address() as { port: number }).port;
    const args = [...base.slice(0, 3), `ws://127.0.0.1:${cloudPort}/ws`, ...base.slice(4)];
    const device = await startDevice();
    const down = await freePort();
    const ok = await runToEnd([...args, '--device', `lab=mllp://127.0.0.1:${device.port}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`ok   lab 127.0.0.1:${device.port}\n`);
    const bad = await runToEnd([...args, '--device', `lab=mllp://127.0.0.1:${device.port}`, '--device', `xray=mllp://127.0.0.1:${down}`]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`ok   lab 127.0.0.1:${device.port}\n`);
    expect(bad.stdout).toContain(`FAIL xray 127.0.0.1:${down} connection refused\n`);
    expect(cloudContacted).toBe(false);
    cloud.close();
  });

  it('exits 2 on a config error', async () => {
    const r = await runToEnd([...base, '--device', 'lab=http://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scheme must be mllp/);
  });
});

describe('webhook and messages', () => {
  it('webhook set prints the secret once; show never does; a bad URL exits 2, an unknown agent 1', async () => {
    const data = dir();
    const hub = await startHub(data);
    const api = ['--api', hub.url, '--token', await token(data)];
    expect((await runToEnd(['agent', 'create', 'site', ...api])).code).toBe(0);
    const plain = await runToEnd(['webhook', 'set', 'site', '--url', 'http://example.com/hook', ...api]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/must be https:\/\//);
    expect((await runToEnd(['webhook', 'set', 'nobody', '--url', 'https://example.com/hook', ...api])).code).toBe(1);
    const set = await runToEnd(['webhook', 'set', 'site', '--url', 'http://127.0.0.1:9/hook', ...api]);
    expect(set.code).toBe(0);
    const { url, secret } = JSON.parse(set.stdout) as { url: string; secret: string };
    expect(url).toBe('http://127.0.0.1:9/hook');
    const shown = await runToEnd(['webhook', 'show', 'site', ...api]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ url });
    expect(shown.stdout).not.toContain(secret);
    expect((await runToEnd(['webhook', 'delete', 'site', ...api])).code).toBe(0);
    const again = await runToEnd(['webhook', 'delete', 'site', ...api]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has no webhook/);
  });

  it('messages prints one JSON message per line and the cursor on stderr; --follow prints new ones until SIGINT', async () => {
    const data = dir();
    const hub = await startHub(data);
    const tok = await token(data);
    const api = ['--api', hub.url, '--token', tok];
    const { body } = await http(`${hub.url}/agents`, { token: tok, body: { agentId: 'site' } });
    const relay = await ScriptedRelay.connect(hub.wsUrl, 'site', body.secret as string, null);
    relay.send({ action: 'hello', v: 1, version: 'scripted', devices: [], channels: [{ name: 'lab-in', protocol: 'mllp', ack: 'fast' }] });
    await relay.next((m) => m.type === 'helloAck');
    const send = async (controlId: string): Promise<string> => {
      const msg = {
        action: 'inbound',
        v: 2,
        inboundId: `r-${controlId}`,
        channel: 'lab-in',
        contentType: 'x-application/hl7-v2+er7',
        body: `MSH|^~\\&|L|D|E|H|20240101000000||ORU^R01|${controlId}|P|2.5`,
        receivedAt: Date.now(),
        ack: 'fast',
        controlId,
      };
      relay.send(msg);
      const ack = await relay.next((m) => m.type === 'inboundAck' && m.inboundId === msg.inboundId);
      return (ack as { messageId: string }).messageId;
    };
    const ids = [await send('M1'), await send('M2')];

    const all = await runToEnd(['messages', 'site', ...api]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { messageId: string }).messageId)).toStrictEqual(ids);
    const [, next] = /next: (\S+)/.exec(all.stderr)!;
    const none = await runToEnd(['messages', 'site', '--after', next, ...api]);
    expect(none).toMatchObject({ code: 0, stdout: '' });

    expect((await runToEnd(['messages', 'site', '--limit', 'x', ...api])).code).toBe(2);
    expect((await runToEnd(['messages', 'site', '--limit', '0', ...api])).code).toBe(2);
    expect((await runToEnd(['messages', 'site', '--after', 'garbage', ...api])).code).toBe(2);
    expect((await runToEnd(['messages', 'nobody', ...api])).code).toBe(1);

    const follow = run(['messages', 'site', '--follow', '--after', next, ...api]);
    await new Promise((r) => setTimeout(r, 500));
    const third = await send('M3');
    await follow.waitFor(new RegExp(third), 10_000);
    follow.child.kill('SIGINT');
    expect(await follow.exited).toBe(0);
    expect(follow.stdout().trim().split('\n')).toHaveLength(1);
    expect(follow.stderr()).toContain(`next: `);
    relay.close();
  });
});
