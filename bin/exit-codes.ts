/**
 * The exit codes every `edgepush` command uses, so scripts can tell a typo from a NACK.
 * Listed in every command's --help and in the README.
 */
export const EXIT_OK = 0;
/** The operation's negative outcome: NACK, failed, expired, unreachable device. */
export const EXIT_NEGATIVE = 1;
/** Usage or configuration error: nothing was attempted. */
export const EXIT_USAGE = 2;
/** Still in flight at the timeout (a push continues on its own). */
export const EXIT_IN_FLIGHT = 3;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the operation's negative outcome (NACK, failed, expired)
  2  usage or configuration error
  3  still in flight (a push continues; follow it by its pushId)`;
