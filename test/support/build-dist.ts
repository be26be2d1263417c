/**
 * Jest global setup: bundles the CLI into dist/ before any test runs, so `npx jest` never tests
 * a stale build (tests spawn dist/edgepush.js as a child process). esbuild takes well under a
 * second, so building every time is cheaper than deciding whether dist/ is still current.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default function buildDist(): void {
  const root = join(__dirname, '../..');
  const res = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`building dist/ failed (node scripts/build.mjs, exit ${res.status}):\n${res.stderr || res.error?.message}`);
  }
}
