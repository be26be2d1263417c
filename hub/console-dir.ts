/** Where the hub finds the built web console (scripts/build-console.mjs writes dist/console/). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Run from the bundle (dist/edgepush.js, the npm package), the console sits beside it in
 * dist/console/; run from source (tsx, jest), this file is in hub/ and the build in ../dist/.
 */
export function consoleDir(): string {
  const beside = join(__dirname, 'console');
  return existsSync(join(beside, 'index.html')) ? beside : join(__dirname, '..', 'dist', 'console');
}
