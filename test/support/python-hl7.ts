/** Runs python-hl7 (Debian python3-hl7, a peer we did not write) over ER7 texts: test/hl7/peers/python_hl7_read.py. */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hl7Segment } from '../../hl7/er7-model';

const SCRIPT = join(__dirname, '..', 'hl7', 'peers', 'python_hl7_read.py');

/** The first interpreter that can import hl7; PYTHON_HL7 overrides. Fails (never skips) without one. */
function pythonWithHl7(): string {
  const candidates = [process.env.PYTHON_HL7, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const cmd of candidates) {
    // -I and a neutral cwd: the repository's own hl7/ folder must not shadow the package.
    if (spawnSync(cmd, ['-I', '-c', 'import hl7'], { cwd: tmpdir() }).status === 0) return cmd;
  }
  throw new Error(`python-hl7 not found (tried ${candidates.join(', ')}): apt-get install -y python3-hl7`);
}

export function parseWithPythonHl7(texts: string[]): Hl7Segment[][] {
  const res = spawnSync(pythonWithHl7(), ['-I', SCRIPT], {
    cwd: tmpdir(),
    input: JSON.stringify(texts),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) throw new Error(`python-hl7 failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Hl7Segment[][];
}
