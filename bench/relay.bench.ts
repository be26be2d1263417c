/**
 * Relay memory and install size (`npm run bench -- relay`). Prints markdown.
 *
 * 1. The relay runs as its own process (`node dist/edgepush.js relay`), against the test fake
 *    cloud and edgepush's device simulator in this process. Its resident memory (VmRSS from
 *    /proc) is read when idle and after 10,000 pushes; its result cache is left at the default
 *    10,000 entries, so the second figure includes a full cache.
 *    Diagnostics: RELAY_NODE_ARGS (node flags for the relay), RELAY_BENCH_CONFIG (a relay.json),
 *    RELAY_BENCH_PUSHES, RELAY_BENCH_ENTRY (another CLI bundle), RELAY_BENCH_SKIP_INSTALL=1.
 * 2. `npm pack`, then `npm install <tgz> --omit=dev` in an empty temp folder: the bytes of
 *    node_modules are what `npx edgepush relay` downloads. `npx edgepush relay --help` must run there.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHl7Listener } from '../edge-agent/mllp/listener';
import { FakeCloud } from '../test/relay/fake-cloud';
import { adt } from '../test/relay/helpers';

const ROOT = join(__dirname, '..');
const PUSHES = Number(process.env.RELAY_BENCH_PUSHES ?? 10_000);
const WINDOW = 100; // pushes outstanding at once, like a busy cloud
const MB = 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** RSS of a bare `node` doing nothing: the floor under any Node relay on this machine. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(2_000);
  const rss = rssBytes(child.pid!);
  child.kill();
  await new Promise((r) => child.once('exit', r));
  return rss;
}

async function memory(): Promise<string[]> {
  const bare = await bareNodeRss();
  const cloud = await FakeCloud.start();
  const lab = await startHl7Listener({ port: 0 });
  const relay = spawn(
    process.execPath,
    [
      ...(process.env.RELAY_NODE_ARGS ? process.env.RELAY_NODE_ARGS.split(' ') : []),
      process.env.RELAY_BENCH_ENTRY ?? join(ROOT, 'dist/edgepush.js'),
      'relay',
      '--url',
      cloud.url,
      '--agent',
      'agent-1',
      '--device',
      `lab=mllp://127.0.0.1:${lab.port}`,
      '--log-level',
      'warn',
      ...(process.env.RELAY_BENCH_CONFIG ? ['--config', process.env.RELAY_BENCH_CONFIG] : []),
    ],
    {
      env: {
        ...process.env,
        EDGEPUSH_AGENT_SECRET: 's3cret',
        NODE_OPTIONS: process.env.RELAY_NODE_OPTIONS ?? '',
        ...(process.env.RELAY_MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.RELAY_MALLOC_ARENA_MAX } : {}),
      },
      stdio: ['ignore', process.env.RELAY_BENCH_STDOUT === 'inherit' ? 'inherit' : 'ignore', 'inherit'],
    },
  );
  try {
    await cloud.waitFor(() => cloud.count('hello') === 1, 10_000, 'hello');
    await sleep(2_000);
    const idle = rssBytes(relay.pid!);

    const t0 = process.hrtime.bigint();
    let sent = 0;
    let done = 0;
    // Count results as they arrive rather than rescanning the received list.
    const counted = cloud.received.length;
    while (done < PUSHES) {
      while (sent < PUSHES && sent - done < WINDOW) {
        cloud.push({ pushId: `bench-${sent}`, body: adt(`B${sent}`) });
        sent++;
      }
      await cloud.waitFor(() => cloud.received.length - counted > done, 30_000, 'results');
      done = cloud.received.slice(counted).filter((m) => m.action === 'result').length;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await sleep(1_000);
    const after = rssBytes(relay.pid!);
    // V8's memory reducer returns heap pages after a few idle seconds; report that too.
    await sleep(15_000);
    const settled = rssBytes(relay.pid!);
    const acked = cloud.results().filter((r) => r.status === 'acked').length;
    const goal = (b: number): string => (b < 60 * MB ? 'yes' : '**no**');
    return [
      '| relay process | RSS | goal < 60 MB |',
      '| --- | ---: | :---: |',
      `| reference: bare \`node\` process, idle | ${(bare / MB).toFixed(1)} MB | |`,
      `| idle, connected, 1 device | ${(idle / MB).toFixed(1)} MB | ${goal(idle)} |`,
      `| after ${PUSHES.toLocaleString('en')} pushes (${acked} acked, result cache full), 1 s later | ${(after / MB).toFixed(1)} MB | ${goal(after)} |`,
      `| same, 16 s later (idle again) | ${(settled / MB).toFixed(1)} MB | ${goal(settled)} |`,
      '',
      `${PUSHES.toLocaleString('en')} pushes through fake cloud -> relay -> simulator took ${seconds.toFixed(1)} s (${Math.round(PUSHES / seconds).toLocaleString('en')} pushes/s, ${WINDOW} outstanding; one device, in order).`,
    ];
  } finally {
    if (relay.exitCode === null && relay.signalCode === null) {
      relay.kill('SIGTERM');
      await new Promise((r) => relay.once('exit', r));
    }
    await lab.close();
    await cloud.close();
  }
}

function installSize(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'edgepush-pack-'));
  try {
    const packOut = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const tgz = join(dir, packOut.trim().split('\n').pop()!);
    const tgzBytes = Number(execFileSync('stat', ['-c', '%s', tgz], { encoding: 'utf8' }));
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });
    execFileSync('npm', ['install', tgz, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const bytes = Number(execFileSync('du', ['-sb', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
    const help = spawnSync('npx', ['--no-install', 'edgepush', 'relay', '--help'], { cwd: app, encoding: 'utf8' });
    const helpOk = help.status === 0 && help.stdout.includes('--device');
    const top = execFileSync('sh', ['-c', 'du -sb node_modules/* node_modules/@* 2>/dev/null | sort -rn | head -5'], {
      cwd: app,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .map((l) => {
        const [b, p] = l.split('\t');
        return `${p.replace('node_modules/', '')} ${(Number(b) / MB).toFixed(1)} MB`;
      });
    return [
      '| packed tarball | installed (`du -sb node_modules`, --omit=dev) | goal < 15 MB | `npx edgepush relay --help` there |',
      '| ---: | ---: | :---: | :---: |',
      `| ${(tgzBytes / 1024).toFixed(0)} KB | ${(bytes / MB).toFixed(1)} MB | ${bytes < 15 * MB ? 'yes' : '**no**'} | ${helpOk ? 'runs' : '**fails**'} |`,
      '',
      `Largest installed entries: ${top.join(', ')}.`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const skipInstall = process.env.RELAY_BENCH_SKIP_INSTALL === '1';
  const lines = [
    '#### Relay memory (`npm run bench -- relay`)',
    '',
    ...(await memory()),
    '',
    '#### Install size',
    '',
    ...(skipInstall ? ['(skipped)'] : installSize()),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`relay bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
