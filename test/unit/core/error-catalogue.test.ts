/**
 * Every error code the HTTP API and the protocol can answer with is in its boundary's catalogue,
 * has a status, and is documented; every catalogued code is really used. Reads the sources, so
 * a code added with a cast, or a catalogue entry nobody uses any more, fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOMAIN_ERROR_CODES } from '../../../lambdas/core/domain-errors';
import { API_ERROR_CODES, API_ERROR_STATUS, HTTP_ERROR_CODES } from '../../../lambdas/http/error-catalogue';
import { PROTOCOL_ERROR_CODES } from '../../../protocol/error-codes';

const ROOT = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The code literal (group 1) of every match of `call` in the sources, with the file it was found in. */
function codesUsed(dirs: string[], call: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of dirs.flatMap(sources)) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(call)) found.set(m[1], file);
  }
  return found;
}

/** `| \`CODE\` | 400 | ...` rows of a markdown table. */
function documentedStatuses(doc: string): Map<string, number> {
  const rows = new Map<string, number>();
  for (const m of readFileSync(join(ROOT, doc), 'utf8').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d{3}) \|/gm)) rows.set(m[1], Number(m[2]));
  return rows;
}

describe('HTTP API error catalogue', () => {
  // Domain errors thrown in the core, and the codes the HTTP layer and the hub's front answer with.
  const used = new Map([
    ...codesUsed(['lambdas'], /new DomainError\(\s*'([A-Z][A-Z0-9_]*)'/g),
    // optionalInt(obj, 'key', 'CODE', ...)
    ...codesUsed(['lambdas'], /optionalInt\(\s*\w+,\s*'\w+',\s*'([A-Z][A-Z0-9_]*)'/g),
    ...codesUsed(['lambdas/http', 'hub'], /(?:jsonError|operationOutcome|fail)\(\s*'([A-Z][A-Z0-9_]*)'/g),
    // Subclasses of DomainError name their codes in their super(...) call.
    ...[...codesUsed(['lambdas', 'hub'], /extends DomainError \{[\s\S]*?super\(([\s\S]*?)\);/g)].flatMap(([args, file]) =>
      [...args.matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((m) => [m[1], file] as const),
    ),
  ]);
  const documented = documentedStatuses('docs/ERRORS.md');

  it('finds the codes in the sources (the scan works)', () => {
    expect(used.size).toBeGreaterThanOrEqual(20);
    expect(used.get('AGENT_NOT_FOUND')).toBeDefined();
    expect(used.get('INVALID_WAIT_TIMEOUT')).toBeDefined();
    expect(used.get('UNAUTHORIZED')).toBe('hub/auth.ts');
  });

  it('every code used in lambdas/ (and the hub front) is catalogued, with a status', () => {
    const unknown = [...used].filter(([code]) => !(API_ERROR_CODES as string[]).includes(code));
    expect(unknown).toEqual([]);
  });

  it('every catalogued code is used somewhere', () => {
    expect([...DOMAIN_ERROR_CODES, ...HTTP_ERROR_CODES].filter((code) => !used.has(code))).toEqual([]);
    expect([...API_ERROR_CODES].sort()).toEqual([...DOMAIN_ERROR_CODES, ...HTTP_ERROR_CODES].sort());
  });

  it('docs/ERRORS.md documents exactly the catalogue, with the same statuses', () => {
    expect(Object.fromEntries(documented)).toEqual(API_ERROR_STATUS);
  });
});

describe('protocol error catalogue', () => {
  const used = new Map([
    ...codesUsed(['protocol', 'lambdas', 'hub', 'edge-agent'], /new ProtocolError\(\s*'([A-Z][A-Z0-9_]*)'/g),
    // Error messages the cloud builds itself.
    ...[
      ...readFileSync(join(ROOT, 'lambdas/core/relay-session.ts'), 'utf8').matchAll(
        /type: 'error',\s*v: BASE_MESSAGE_VERSION,\s*code: '([A-Z_]+)'/g,
      ),
    ].map((m) => [m[1], 'lambdas/core/relay-session.ts'] as const),
  ]);

  it('every code thrown or sent is catalogued, and every catalogued code is used', () => {
    expect(used.size).toBeGreaterThanOrEqual(8);
    expect([...used.keys()].filter((code) => !(PROTOCOL_ERROR_CODES as readonly string[]).includes(code))).toEqual([]);
    expect(PROTOCOL_ERROR_CODES.filter((code) => !used.has(code))).toEqual([]);
  });

  it('docs/PROTOCOL.md documents every code', () => {
    const doc = readFileSync(join(ROOT, 'docs/PROTOCOL.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| [a-z]/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...PROTOCOL_ERROR_CODES].sort());
  });
});
