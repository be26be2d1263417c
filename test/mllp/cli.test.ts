/** `edgepush hl7 listen|send` as a user runs them: real child processes on loopback. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHl7Listener } from '../../edge-agent/mllp/listener';
import { freePort } from '../support/free-port';
import { message, startFakeDevice } from './support/fake-device';

const CLI = join(__dirname, '../../dist/edgepush.js');
const tmp = mkdtempSync(join(tmpdir(), 'edgepush-hl7-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Listening {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function listen(args: string[] = []): Promise<Listening> {
  const child = spawn(process.execPath, [CLI, 'hl7', 'listen', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Listening for HL7 over MLLP on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`listen exited with ${code}: ${err}`)));
  });
  return { child, port, stdout: () => out, stderr: () => err, exited };
}

describe('edgepush hl7 listen / send', () => {
  it('listen 0 prints the real port; send --generate-example prints the ACK, one segment per line, exit 0', async () => {
    const l = await listen();
    expect(l.port).toBeGreaterThan(0);
    const r = await run(['hl7', 'send', '127.0.0.1', String(l.port), '--generate-example']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^MSH\|\^~\\&\|ADT_RECEIVER\|GENERAL_HOSPITAL\|EDGEPUSH\|EDGEPUSH_CLOUD\|.*\|ACK\^A01\^ACK\|/);
    expect(lines[1]).toMatch(/^MSA\|AA\|EX\w+$/);
    // The listener logged type and control id, not the body.
    const controlId = lines[1].split('|')[2];
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(l.stderr()).toContain(`"controlId":"${controlId}"`);
    expect(l.stderr()).toContain('"messageType":"ADT^A01"');
    expect(l.stderr()).not.toContain('Doe^Jane');
  });

  it('listen --ack AE makes send exit 1 and still print the ACK', async () => {
    const l = await listen(['--ack', 'AE']);
    const r = await run(['hl7', 'send', '127.0.0.1', String(l.port), '--generate-example']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^MSA\|AE\|/m);
    expect(r.stderr).toMatch(/answered AE/);
  });

  it('listen exits 0 on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const l = await listen();
      l.child.kill(signal);
      expect(await l.exited).toBe(0);
    }
  });

  it('send --file accepts \\n line endings and a windows-1252 file', async () => {
    const seen: string[] = [];
    const device = await startHl7Listener({ port: 0, encoding: 'windows-1252', onMessage: (m) => seen.push(m) });
    cleanups.push(() => device.close());
    const file = join(tmp, 'adt-1252.hl7');
    writeFileSync(file, Buffer.from(message('F1', 'é').replace(/\r/g, '\n'), 'latin1'));
    const r = await run(['hl7', 'send', '127.0.0.1', String(device.port), '--file', file, '--encoding', 'windows-1252']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^MSA\|AA\|F1$/m);
    expect(seen[0]).toBe(message('F1', 'é'));
  });

  it('send --file accepts a UTF-8 file saved with a byte-order mark (Notepad) and does not send the BOM', async () => {
    const seen: string[] = [];
    const device = await startHl7Listener({ port: 0, onMessage: (m) => seen.push(m) });
    cleanups.push(() => device.close());
    const file = join(tmp, 'adt-bom.hl7');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(message('BOM1').replace(/\r/g, '\r\n'))]));
    const r = await run(['hl7', 'send', '127.0.0.1', String(device.port), '--file', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^MSA\|AA\|BOM1$/m);
    expect(seen[0]).toBe(message('BOM1'));
  });

  it('send exits 1 with CONNECT_REFUSED when nothing listens', async () => {
    const port = await freePort();
    const r = await run(['hl7', 'send', '127.0.0.1', String(port), '--generate-example']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CONNECT_REFUSED: cannot connect to 127\.0\.0\.1:\d+ \(connection refused\)/);
    expect(r.stdout).toBe('');
  });

  it('send --timeout gives ACK_TIMEOUT when the device never answers', async () => {
    const device = await startFakeDevice(() => undefined);
    cleanups.push(() => device.close());
    const r = await run(['hl7', 'send', '127.0.0.1', String(device.port), '--generate-example', '--timeout', '300']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ACK_TIMEOUT/);
  });

  it.each([
    [['hl7', 'send', '127.0.0.1', '2575'], /exactly one of --file <file>, --generate-example or the message inline/],
    [['hl7', 'send', '127.0.0.1', '2575', '--file', '/nonexistent/x.hl7'], /cannot read --file \/nonexistent\/x\.hl7: ENOENT/],
    [['hl7', 'send', '127.0.0.1', 'http', '--generate-example'], /port must be an integer from 1 to 65535/],
    [['hl7', 'send', '127.0.0.1', '2575', '--generate-example', '--encoding', 'utf-16'], /unsupported character encoding "utf-16"/],
    [['hl7', 'send', '127.0.0.1', '2575', '--generate-example', '--timeout', 'soon'], /--timeout must be a duration/],
    [['hl7', 'listen', '99999'], /port must be an integer from 0 to 65535/],
    [['hl7', 'listen', '0', '--ack', 'OK'], /--ack must be AA, AE or AR/],
    [['hl7', 'listen', '0', '--delay', '-5'], /--delay must be a duration/],
  ])('%j fails with a clear message and exit code 2 (usage)', async (args, why) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(why);
  });

  it('send refuses a file that is not HL7, sending nothing', async () => {
    const device = await startFakeDevice(() => undefined);
    cleanups.push(() => device.close());
    const file = join(tmp, 'not.hl7');
    writeFileSync(file, '{"resourceType":"Patient"}');
    const r = await run(['hl7', 'send', '127.0.0.1', String(device.port), '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_HL7: not an HL7 v2 message/);
    expect(device.connections).toBe(0);
  });
});
