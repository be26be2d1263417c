/** `edgepush demo` (= `npm start`): hub, relay and a simulated device in one process; one push, its ACK. */
import type { Command } from 'commander';
import { runDemo } from '../demo';
import { runCommand } from './target';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run hub, relay and a simulated device on loopback, push an example ADT^A01 and print the ACK.')
    .action(() =>
      runCommand('demo', async () => {
        const print = (line: string): void => void process.stdout.write(`${line}\n`);
        print('EdgePush demo: one HL7 push through the whole path, on this machine.\n');
        const result = await runDemo(print);
        print(`\nThe device's ACK:\n${result.ack.replace(/\r\n?/g, '\n').replace(/\n?$/, '\n')}`);
        print(`Round trip: ${result.roundTripMs.toFixed(1)} ms. Everything was shut down and the temp data deleted.`);
        print('Next: `npx edgepush hub` runs a hub you can keep (see its startup output).');
        return 0;
      }),
    );
}
