/**
 * `npm run smoke:aws` needs an AWS account, so CI cannot run it; its help and argument checks
 * run here, as a real child process, and must fail before anything is built or deployed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './synth';

const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const smoke = (...args: string[]) =>
  spawnSync(TSX, [path.join(ROOT, 'scripts', 'smoke-aws.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });

describe('npm run smoke:aws', () => {
  it('--help says what it does and takes', () => {
    const res = smoke('--help');
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('Usage: npm run smoke:aws -- --profile <profile> --region <region>');
    for (const flag of ['--stage', '--keep']) expect(res.stdout).toContain(flag);
    expect(res.stdout).toContain('CI cannot run it');
  });

  it.each([
    [[], '--profile is required'],
    [['--profile', 'p'], '--region is required'],
    [['--profile', 'p', '--region', 'Europe'], '--region must be an AWS Region such as eu-west-1, not Europe'],
    [['--profile', 'p', '--region', 'eu-west-1', '--stage', 'prod'], '--stage prod is a real stage'],
    [['--profile', 'p', '--region', 'eu-west-1', '--stage', 'My_Stage'], '--stage must be lower-case letters and digits'],
    [['--profile', 'p', '--region', 'eu-west-1', '--bucket', 'x'], 'unknown option --bucket'],
    [['--profile', '--region', 'eu-west-1'], '--profile needs a value'],
  ])('refuses %j with a usage error, before building or deploying', (args, message) => {
    const res = smoke(...args);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`smoke:aws: ${message}`);
    expect(res.stderr).toContain('Usage:');
    expect(res.stderr).not.toContain('$ ');
  });
});
