/**
 * One hub per data dir: a second hub refuses to start; a hub killed with -9 leaves nothing
 * that blocks the next start; a lock file naming a live, unrelated pid blocks nothing; two
 * hubs starting at once never both run (the lock is flock(2), see hub/data-lock.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runToEnd, startHub, stopAll, tempDir } from '../e2e/harness';

describe('hub data dir lock', () => {
  const dir = tempDir();
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('refuses a second hub on the same data dir, and recovers from a hub killed with -9', async () => {
    const first = await startHub(dir.path);
    const second = await runToEnd(['hub', '--port', '0', '--data', dir.path, '--log-level', 'warn']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(new RegExp(`another hub \\(pid ${first.child.pid}\\) is using this data dir`));
    // The first hub is unharmed.
    expect((await fetch(`${first.url}/health`)).status).toBe(200);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = await startHub(dir.path);
    expect((await fetch(`${third.url}/health`)).status).toBe(200);

    // A clean stop removes the lock, so the next start needs no takeover.
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    const fourth = run(['hub', '--port', '0', '--data', dir.path, '--log-level', 'warn']);
    await fourth.waitFor(/Push API:/);
  });

  it('ignores a lock file whose pid is alive but not a hub (a pid reused after a reboot)', async () => {
    const other = tempDir();
    try {
      mkdirSync(other.path, { recursive: true });
      // pid 1 is always alive; the old pid-file lock refused to start here.
      writeFileSync(join(other.path, 'hub.lock'), '1');
      const hub = await startHub(other.path);
      expect((await fetch(`${hub.url}/health`)).status).toBe(200);
      hub.child.kill('SIGKILL');
      await hub.exited;
    } finally {
      other.remove();
    }
  });

  it('lets exactly one of two hubs started at the same moment run', async () => {
    const shared = tempDir();
    try {
      for (let round = 0; round < 3; round++) {
        const hubs = [0, 1].map(() => run(['hub', '--port', '0', '--data', shared.path, '--log-level', 'warn']));
        const outcomes = await Promise.all(
          hubs.map((h) =>
            h.waitFor(/Push API:/, 15_000).then(
              () => 'running',
              async () => `exited ${await h.exited}`,
            ),
          ),
        );
        expect(outcomes.sort()).toEqual(['exited 1', 'running']);
        const loser = hubs.find((h) => h.child.exitCode === 1)!;
        expect(loser.stderr()).toMatch(/another hub \(pid \d+\) is using this data dir/);
        for (const h of hubs) h.child.kill('SIGKILL');
        await Promise.all(hubs.map((h) => h.exited));
      }
    } finally {
      shared.remove();
    }
  }, 60_000);
});
