/**
 * A full disk must not crash the hub (issue 9, #2). The real `edgepush hub` process runs on a
 * small tmpfs mounted by this test; the test fills it until lmdb's commits fail, then frees it.
 * Mounting needs root (as in CI here). Without it the test fails and says why: a skipped test
 * would hide the case it exists for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, run, runToEnd, stopAll, type Proc } from '../e2e/harness';
import { ScriptedRelay } from '../core/scripted-relay';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

const MSG = (id: string) => `MSH|^~\\&|EHR|HOSP|LAB|DEV|20260101000000||ADT^A01|${id}|P|2.5.1\rPID|1||123\r`;
const MIB = 1024 * 1024;

function mountTmpfs(sizeMb: number): { path: string; unmount(): void } {
  const path = mkdtempSync(join(tmpdir(), 'edgepush-fulldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    throw new Error(`this test mounts a ${sizeMb} MiB tmpfs and needs root to do so: ${(err as Error).message}`);
  }
  return {
    path,
    unmount() {
      execFileSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

const freeBytes = (path: string): number => {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
};

/** Writes zeros into `file` until `bytes` are written or the disk is full. */
function fill(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let written = 0; written < bytes; written += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('hub on a full disk', () => {
  let disk: ReturnType<typeof mountTmpfs>;
  let hub: Proc;
  afterAll(async () => {
    await stopAll();
    disk?.unmount();
  });

  it('refuses new pushes with 507, keeps reads and results working, logs once, and recovers when space returns', async () => {
    disk = mountTmpfs(24);
    const dataDir = join(disk.path, 'data');
    hub = run(['hub', '--port', '0', '--data', dataDir, '--log-level', 'info', '--store-reserve-mb', '4']);
    const [, url] = await hub.waitFor(/Push API:\s+(http:\/\/\S+?)\/\s/);
    const [, wsUrl] = await hub.waitFor(/Relay WebSocket:\s+(ws:\/\/\S+)/);
    const minted = await runToEnd(['token', '--data', dataDir]);
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    const push = (id: string) =>
      http(`${url}/agents/disk/push`, { token, body: { destination: 'lab', body: MSG(id), waitForResponse: false } });

    const agent = await http(`${url}/agents`, { token, body: { agentId: 'disk' } });
    expect(agent.status).toBe(201);
    const p1 = await push('P1');
    const p2 = await push('P2');
    expect([p1.status, p2.status]).toEqual([202, 202]);

    // 1. Below the reserve: new pushes are refused before lmdb fails; what was accepted goes on.
    fill(join(disk.path, 'filler-1'), freeBytes(disk.path) - 2 * MIB);
    const refused = await until(
      () => push('P3'),
      (r) => r.status !== 202,
    );
    expect(refused).toMatchObject({ status: 507, body: { code: 'STORE_FULL' } });
    expect((await http(`${url}/pushes/${p1.body.pushId}`, { token })).body.status).toBe('queued');

    const relay = await ScriptedRelay.connect(wsUrl, 'disk', agent.body.secret as string);
    const first = await relay.nextPush();
    expect(first.pushId).toBe(p1.body.pushId);
    expect(await relay.ack(first.pushId)).toMatchObject({ type: 'resultAck' });
    expect((await http(`${url}/pushes/${first.pushId}`, { token })).body).toMatchObject({ status: 'acked', ackCode: 'AA' });
    const second = await relay.nextPush();

    // 2. Nothing left at all: lmdb's commit fails. The hub answers and stays up.
    fill(join(disk.path, 'filler-2'), 64 * MIB);
    expect(freeBytes(disk.path)).toBeLessThan(64 * 1024);
    // A long ACK text (within the 32 KB frame limit): the write needs new pages, not only the ones lmdb freed earlier.
    const longAck = `MSA|AA|P2\rNTE|${'x'.repeat(28_000)}`;
    const notRecorded = await relay.ack(second.pushId, 'AA', longAck);
    expect(notRecorded).toMatchObject({ type: 'error' });
    expect((await push('P4')).status).toBe(507);
    expect((await http(`${url}/health`)).status).toBe(200);
    expect((await http(`${url}/pushes/${second.pushId}`, { token })).body.status).toBe('sent');
    expect(hub.child.exitCode).toBeNull();

    // 3. Space returns: the result the relay sends again is recorded, new pushes are accepted.
    unlinkSync(join(disk.path, 'filler-1'));
    unlinkSync(join(disk.path, 'filler-2'));
    expect(await relay.ack(second.pushId, 'AA', longAck)).toMatchObject({ type: 'resultAck' });
    expect((await http(`${url}/pushes/${second.pushId}`, { token })).body.status).toBe('acked');
    const again = await until(
      () => push('P5'),
      (r) => r.status !== 507,
    );
    expect(again.status).toBe(202);
    relay.close();

    expect(hub.child.exitCode).toBeNull();
    const readLines = () =>
      hub
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; level: number });
    // stderr is another pipe than the HTTP answer: the recovery line may arrive a moment later.
    const lines = await waitFor(() => {
      const ls = readLines();
      return ls.some((l) => l.msg.startsWith('store is writable again')) ? ls : undefined;
    }, 10_000);
    expect(lines.filter((l) => l.msg.startsWith('store cannot take writes'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.startsWith('store is writable again'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.startsWith('unhandled promise rejection'))).toHaveLength(0);
    writeFileSync(join(disk.path, 'probe'), 'ok'); // the mount is still usable for cleanup
  });
});
