/** `edgepush demo` (= `npm start`): hub, relay and a simulated device in one process; one push, its ACK. */
import type { Command } from 'commander';
import { runDemo } from '../demo';
import { runCommand } from './target';

/** Resolves on the first Ctrl+C (or SIGTERM), so the demo shuts down and cleans up as usual. */
function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run hub, relay and a simulated device on loopback, push an example ADT^A01 and print the ACK.')
    .option('--keep', 'keep everything running after the push, until Ctrl+C, to look at it in the web console (default on a terminal)')
    .option('--no-keep', 'shut down right after the push (default when not on a terminal, e.g. CI)')
    .action((opts: { keep?: boolean }) =>
      runCommand('demo', async () => {
        const print = (line: string): void => void process.stdout.write(`${line}\n`);
        print('EdgePush demo: one HL7 push through the whole path, on this machine.\n');
        // On a terminal someone can open the console; in CI nobody will, and the run must end.
        const keep = opts.keep ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
        const result = await runDemo(print, {
          beforeShutdown: keep
            ? () => {
                print('   Open that address in a browser. Press Ctrl+C to stop the demo and delete its temp data.');
                return untilInterrupted();
              }
            : () => {
                print('   (the demo stops now; `npm start -- --keep` keeps it running to look at the console)');
                return Promise.resolve();
              },
        });
        print(`\nThe device's ACK:\n${result.ack.replace(/\r\n?/g, '\n').replace(/\n?$/, '\n')}`);
        print(`Round trip: ${result.roundTripMs.toFixed(1)} ms. Everything was shut down and the temp data deleted.`);
        print('Next: `npx edgepush hub` runs a hub you can keep (see its startup output).');
        return 0;
      }),
    );
}
