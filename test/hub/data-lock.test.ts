/** One hub per data dir: a second hub refuses to start; a lock left by a killed hub is taken over. */
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
});
