/** The domain core depends on its ports and the shared kernel only: HTTP depends on it, not the reverse. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const CORE = join(ROOT, 'lambdas', 'core');

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
}

describe('lambdas/core imports', () => {
  const files = readdirSync(CORE).filter((name) => name.endsWith('.ts'));

  it('reads the core files and their imports', () => {
    expect(files).toContain('core.ts');
    expect(importsOf(join(CORE, 'core.ts')).length).toBeGreaterThan(3);
  });

  it('imports only the core itself, the shared kernel (protocol/, hl7/, astm/, mapping/) and node built-ins', () => {
    const outside = files.flatMap((name) =>
      importsOf(join(CORE, name))
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => relative(ROOT, resolve(CORE, spec)))
        .filter((target) => !/^(lambdas\/core|protocol|hl7|astm|mapping)\//.test(target))
        .map((target) => `${name} -> ${target}`),
    );
    expect(outside).toEqual([]);
  });
});
