/**
 * `edgepush relay` as users run it: a child process of the built CLI (npm test builds dist/
 * first), configured by flags, environment variables or a JSON file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHl7Listener } from '../../edge-agent/mllp/listener';
import { FakeCloud } from './fake-cloud';
import { adt, msa2 } from './helpers';

const CLI = join(__dirname, '../../dist/edgepush.js');

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Run {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'relay', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on('data', (d: Buffer) => stdout.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

const running: Run[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await r.exited;
  }
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ cloud: FakeCloud; labPort: number; seen: () => number }> {
  const cloud = await FakeCloud.start();
  const lab = await startHl7Listener({ port: 0 });
  cleanups.push(
    () => cloud.close(),
    () => lab.close(),
  );
  return { cloud, labPort: lab.port, seen: () => lab.received };
}

describe('edgepush relay (child process)', () => {
  it('prints help', async () => {
    const r = run(['--help']);
    expect(await r.exited).toBe(0);
    expect(r.stdout.join('')).toMatch(/--device <name=mllp:\/\/host:port>/);
  });

  it('refuses a missing configuration with every problem listed and exit code 2', async () => {
    const r = run([]);
    expect(await r.exited).toBe(2);
    const err = r.stderr.join('');
    expect(err).toMatch(/url is required/);
    expect(err).toMatch(/agent id is required/);
    expect(err).toMatch(/agent secret is required/);
    expect(err).toMatch(/at least one device or channel is required/);
  });

  it.each([
    [['--device', 'lab=http://10.0.0.1:2575'], /scheme must be mllp/],
    [['--device', 'lab=mllp://10.0.0.1'], /needs a port/],
    [['--device', 'lab=mllp://10.0.0.1:2575?encoding=klingon'], /unknown encoding "klingon"/],
    [['--device', 'mllp://10.0.0.1:2575'], /must look like name=mllp/],
    [['--device', 'a=mllp://h:1', '--device', 'a=mllp://h:2'], /device a is configured twice/],
    [['--url', 'ws://agent:pw@cloud/ws'], /must not carry credentials/],
    [['--url', 'ws://cloud/ws?secret=x'], /must not carry credentials/],
    [['--url', 'https://cloud/ws'], /must start with ws:\/\/ or wss:\/\//],
    [['--heartbeat', '0'], /heartbeatIntervalMs must be an integer/],
  ])('refuses bad flags %j', async (args, message) => {
    const base = ['--url', 'ws://127.0.0.1:1/ws', '--agent', 'a', '--secret', 's', '--device', 'ok=mllp://127.0.0.1:2575'];
    const r = run([...base, ...args]);
    expect(await r.exited).toBe(2);
    expect(r.stderr.join('')).toMatch(message);
  });

  it('refuses a config file that is not JSON, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-cfg-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'relay.json');
    writeFileSync(file, '{"url": ');
    const r = run(['--config', file]);
    expect(await r.exited).toBe(2);
    expect(r.stderr.join('')).toMatch(/relay\.json is not valid JSON/);
    const missing = run(['--config', join(dir, 'nope.json')]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr.join('')).toMatch(/cannot read config file .*nope\.json: ENOENT/);
  });

  it('runs from EDGEPUSH_* environment variables, delivers a push, and exits 0 on SIGTERM', async () => {
    const { cloud, labPort, seen } = await setup();
    const r = run([], {
      EDGEPUSH_URL: cloud.url,
      EDGEPUSH_AGENT_ID: 'agent-1',
      EDGEPUSH_AGENT_SECRET: 's3cret',
      EDGEPUSH_DEVICES: `lab=mllp://127.0.0.1:${labPort}`,
    });
    running.push(r);
    await cloud.waitFor(() => cloud.count('hello') === 1, 10_000, 'hello');
    expect(cloud.upgrades[0].url).toBe('/ws');
    cloud.push({ pushId: 'p1', body: adt('ENV1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    expect(cloud.results('p1')[0]).toMatchObject({ status: 'acked', ackCode: 'AA' });
    expect(msa2(cloud.results('p1')[0].response)).toBe('ENV1');
    expect(seen()).toBe(1);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    const logs = r.stderr.join('');
    expect(logs).toMatch(/"msg":"relay stopped"/);
    expect(logs).toMatch(/"pushId":"p1"/);
    expect(logs).not.toContain('PHIMARKER');
    expect(logs).not.toContain('s3cret');
  });

  it('loads only its own bundle: no other command, no hub store (lmdb), no JWT code (jose), no iconv code-page tables', async () => {
    const { cloud, labPort } = await setup();
    const dir = mkdtempSync(join(tmpdir(), 'relay-modules-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    // Preloaded into the relay process: on exit, lists every module file it loaded.
    const lister = join(dir, 'list-modules.js');
    const listed = join(dir, 'modules.json');
    writeFileSync(
      lister,
      `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(listed)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const r = run(
      ['--url', cloud.url, '--agent', 'agent-1', '--device', `lab=mllp://127.0.0.1:${labPort}`],
      { EDGEPUSH_AGENT_SECRET: 's3cret' },
      ['--require', lister],
    );
    running.push(r);
    await cloud.waitFor(() => cloud.count('hello') === 1, 10_000, 'hello');
    cloud.push({ pushId: 'p1', body: adt('MODS1') });
    await cloud.waitFor(() => cloud.results('p1').length === 1, 5_000, 'result');
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    const modules = (JSON.parse(readFileSync(listed, 'utf8')) as string[]).map((m) => m.replace(/\\/g, '/'));
    const ours = modules.filter((m) => /\/dist\/[^/]+\.js$/.test(m)).map((m) => m.replace(/.*\/dist\//, ''));
    expect(ours.sort()).toStrictEqual(['edgepush-relay.js', 'edgepush.js']);
    expect(modules.filter((m) => /\/node_modules\/(lmdb|jose|msgpackr|serialport|@serialport)\//.test(m))).toStrictEqual([]);
    // A UTF-8 device needs none of iconv's code-page tables.
    expect(modules.filter((m) => m.includes('/node_modules/iconv-lite/encodings/'))).toStrictEqual([]);
    // The list is real: the relay's own dependencies are in it.
    expect(modules.some((m) => m.includes('/node_modules/ws/'))).toBe(true);
  });

  it('runs from --config relay.json with flags taking precedence, and finishes an in-flight push on SIGTERM', async () => {
    const cloud = await FakeCloud.start();
    const lab = await startHl7Listener({ port: 0, delayMs: 300 });
    cleanups.push(
      () => cloud.close(),
      () => lab.close(),
    );
    const dir = mkdtempSync(join(tmpdir(), 'relay-cfg-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'relay.json');
    writeFileSync(
      file,
      JSON.stringify({
        url: 'ws://127.0.0.1:1/overridden',
        agentId: 'agent-1',
        secret: 's3cret',
        devices: { lab: `mllp://127.0.0.1:${lab.port}?encoding=windows-1252` },
        heartbeatIntervalMs: 100,
        logLevel: 'debug',
      }),
    );
    const r = run(['--config', file, '--url', cloud.url]);
    running.push(r);
    await cloud.waitFor(() => cloud.count('heartbeat') >= 2, 10_000, 'heartbeats from the file setting');
    cloud.push({ pushId: 'p1', body: adt('CFG1') });
    await new Promise((res) => setTimeout(res, 100));
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    expect(cloud.results('p1')[0]).toMatchObject({ status: 'acked' });
    expect(lab.received).toBe(1);
  });
});
