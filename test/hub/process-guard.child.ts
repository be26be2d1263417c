/**
 * Child process for the process-guard test: installs the hub's guard, then fails the way the
 * argument says (an unhandled rejection, then a line on stdout; or an uncaught exception).
 */
import pino from 'pino';
import { installProcessGuard } from '../../hub/process-guard';

installProcessGuard(pino({ level: 'info' }, pino.destination(2)));
const mode = process.argv[2];
if (mode === 'rejection') {
  void Promise.reject(new Error('stray rejection'));
  setTimeout(() => process.stdout.write('still running\n'), 100);
  setTimeout(() => process.exit(0), 150);
} else {
  setTimeout(() => {
    throw new Error('boom');
  }, 10);
}
