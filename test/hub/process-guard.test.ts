/** The hub's process guard, in a real child process: nothing ends the hub silently. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FATAL_EXIT_CODE } from '../../hub/process-guard';

function runChild(mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'process-guard.child.ts'), mode], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('process guard', () => {
  it('logs an unhandled rejection as a structured error and keeps the process running', async () => {
    const { code, stdout, stderr } = await runChild('rejection');
    expect(code).toBe(0);
    expect(stdout).toContain('still running');
    const line = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>)
      .find((l) => l.msg === 'unhandled promise rejection; the hub keeps running');
    expect(line).toMatchObject({ level: 50, err: { message: 'stray rejection' } });
  });

  it('logs an uncaught exception, says so on stderr, and exits with a distinct code', async () => {
    const { code, stderr } = await runChild('exception');
    expect(code).toBe(FATAL_EXIT_CODE);
    expect(stderr).toContain('edgepush hub: fatal: boom');
    expect(stderr).toMatch(/"level":60.*uncaught exception; the hub stops/);
  });
});
