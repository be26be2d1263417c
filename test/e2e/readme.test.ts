/**
 * The README is a newcomer's script, so it is tested as one:
 * 1. every `npx edgepush …` line in it names a real command and only real flags;
 * 2. the "Run the pieces yourself" block and the curl example run for real, as written,
 *    with only the ports, the data dir and the printed secret filled in.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/free-port';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/edgepush.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The shell code blocks of the README, with `\`-continued lines joined. */
function shellBlocks(): string[][] {
  const blocks: string[][] = [];
  for (const m of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    blocks.push(
      m[1]
        .replace(/\\\n\s*/g, '')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
  }
  return blocks;
}

const stripComment = (line: string) => line.replace(/\s+#.*$/, '').trim();

function edgepushCommands(): string[][] {
  const commands: string[][] = [];
  for (const line of shellBlocks().flat()) {
    const m = stripComment(line).match(/npx (?:--yes --package \S+ )?edgepush (.*)$/);
    if (m) commands.push(m[1].replace(/\$\(.*?\)/g, 'X').split(/\s+/));
  }
  return commands;
}

function helpFor(words: string[]): string {
  return execFileSync(process.execPath, [CLI, ...words, '--help'], { encoding: 'utf8' });
}

describe('README', () => {
  it('names only real commands and flags', () => {
    const commands = edgepushCommands();
    expect(commands.length).toBeGreaterThanOrEqual(8);
    for (const words of commands) {
      // Subcommands are the leading words that are not flags or arguments.
      const pushSub = words[0] === 'push' && ['status', 'list', 'cancel', 'resend'].includes(words[1]);
      const sub = ['hl7', 'agent', 'astm', 'webhook', 'template'].includes(words[0]) || pushSub ? words.slice(0, 2) : words.slice(0, 1);
      const help = helpFor(sub);
      for (const flag of words.filter((w) => w.startsWith('--'))) {
        expect({ command: sub.join(' '), flag, known: help.includes(flag) }).toEqual({ command: sub.join(' '), flag, known: true });
      }
    }
  });

  describe('run as written', () => {
    const children: ChildProcess[] = [];
    let dataDir: string;

    afterAll(async () => {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('takes a newcomer from an empty hub to an acked push, by CLI and by curl', async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'edgepush-readme-'));
      const hubPort = await freePort();
      const devicePort = await freePort();
      const fill = (line: string, secret = '') =>
        stripComment(line)
          .replace(/\b8080\b/g, String(hubPort))
          .replace(/\b2575\b/g, String(devicePort))
          .replace(/--data \.edgepush/g, `--data ${dataDir}`)
          .replace('<secret>', secret);

      const pieces = shellBlocks().find((b) => b.some((l) => l.includes('edgepush hub --port')));
      const rest = shellBlocks().find((b) => b.some((l) => l.includes('hl7 listen')));
      const push = shellBlocks().find((b) => b.some((l) => l.includes('edgepush push site-1')));
      const curl = shellBlocks().find((b) => b.some((l) => l.startsWith('curl')));
      expect([pieces, rest, push, curl].every(Boolean)).toBe(true);

      const env: NodeJS.ProcessEnv = { ...process.env };
      const background = (line: string) => {
        // Long-running lines run the same CLI without npx's wrapper process, so SIGTERM reaches it.
        const command = fill(line).replace(/^npx edgepush /, `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} `);
        const child = spawn('bash', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        return (pattern: RegExp) =>
          new Promise<void>((res, rej) => {
            const t = setInterval(() => {
              if (pattern.test(out)) {
                clearInterval(t);
                res();
              } else if (child.exitCode !== null) {
                clearInterval(t);
                rej(new Error(`exited: ${out}`));
              }
            }, 50);
          });
      };
      // `export X=...` lines set the environment for the lines after them, as in a shell.
      const foreground = (line: string, secret = ''): string => {
        const filled = fill(line, secret);
        const exp = filled.match(/^export (\w+)=(.*)$/);
        if (exp) {
          env[exp[1]] = execFileSync('bash', ['-c', `printf %s ${exp[2]}`], { cwd: ROOT, env, encoding: 'utf8' });
          return '';
        }
        return execFileSync('bash', ['-c', filled], { cwd: ROOT, env, encoding: 'utf8' });
      };

      await background(pieces!.find((l) => l.includes('edgepush hub'))!)(/listening|http:\/\//i);
      let secret = '';
      for (const line of rest!) {
        if (line.includes('hl7 listen')) {
          await background(line)(/listening/i);
        } else if (line.includes('edgepush relay')) {
          // The relay line needs the secret the agent line printed; the hub tells when it is in.
          expect(secret).not.toBe('');
          background(fill(line, secret));
        } else {
          const out = foreground(line);
          const created = out.match(/"secret"\s*:\s*"([^"]+)"/);
          if (created) {
            secret = created[1];
            // The README says `agent create` prints one line.
            expect(out.trim().split('\n')).toHaveLength(1);
          }
        }
      }

      // Wait until the hub sees the relay, then push as the README does.
      const deadline = Date.now() + 10_000;
      while (!foreground('npx edgepush agent get site-1').includes('connected')) {
        if (Date.now() > deadline) throw new Error('relay never connected');
        await new Promise((r) => setTimeout(r, 100));
      }
      const ack = foreground(push!.find((l) => l.includes('edgepush push'))!);
      expect(ack).toMatch(/MSA\|AA\|/);
      expect(foreground(push!.find((l) => l.includes('agent get'))!)).toMatch(/"status":\s*"connected"|connected/);

      const answer = JSON.parse(foreground(curl!.join(' ')));
      expect(answer).toMatchObject({ status: 'acked', ackCode: 'AA', attempts: 1 });
      expect(answer.response).toMatch(/MSA\|AA\|MSG0001/);
      // The README's example answer has exactly the keys the API returns.
      const example = README.match(/The answer:\s*```json\n(.*)\n```/)?.[1];
      expect(Object.keys(JSON.parse(example!) as object).sort()).toStrictEqual(Object.keys(answer as object).sort());

      // The MedplumClient snippet, saved as push.js and run with node, as the README says.
      const snippet = README.match(/```js\n([\s\S]*?)```/)?.[1];
      expect(snippet).toContain("require('@medplum/core')");
      const snippetDir = mkdtempSync(join(tmpdir(), 'edgepush-readme-js-'));
      try {
        writeFileSync(join(snippetDir, 'push.js'), snippet!);
        const printed = execFileSync(process.execPath, ['push.js'], {
          cwd: snippetDir,
          env: { ...env, NODE_PATH: join(ROOT, 'node_modules') },
          encoding: 'utf8',
        });
        expect(printed).toMatch(/MSA\|AA\|MSG0003/);
      } finally {
        rmSync(snippetDir, { recursive: true, force: true });
      }
    }, 60_000);

    it('runs the ASTM example: an order to the analyser simulator, acked frame by frame', async () => {
      const block = shellBlocks().find((b) => b.some((l) => l.includes('edgepush astm listen')));
      expect(block).toBeDefined();
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'edgepush-readme-astm-'));
      const fill = (line: string) => stripComment(line).replace(/\b5000\b/g, String(port));
      try {
        const listen = block!.find((l) => l.includes('astm listen'))!;
        const command = fill(listen).replace(/^npx edgepush /, `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} `);
        const child = spawn('bash', ['-c', command], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        while (!/Listening for ASTM/.test(out)) {
          if (child.exitCode !== null) throw new Error(`astm listen exited: ${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const line of block!.filter((l) => l !== listen)) {
          // `npx edgepush` resolves from the repository; the order file is written in a temp dir.
          const filled = fill(line).replace(/^npx edgepush /, `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} `);
          const stdout = execFileSync('bash', ['-c', filled], { cwd: dir, encoding: 'utf8' });
          if (line.includes('astm send')) expect(stdout).toMatch(/acked: 4 records/);
        }
        while (!out.includes('L|1|N')) await new Promise((r) => setTimeout(r, 50));
        expect(out).toContain('H|\\^&\nP|1\nO|1|S-42||^^^GLU|R\nL|1|N');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);
  });
});
