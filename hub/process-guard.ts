/**
 * Process-level guard for `edgepush hub`. Node ends the process on an unhandled rejection; one
 * stray promise (lmdb rejects an internal twin of every failed commit that nobody can await)
 * would then take the hub down, and under systemd restart it into the same failure.
 *
 * - unhandledRejection: logged as a structured error and the hub keeps running. Its state
 *   lives in the store and every request path handles its own errors, so a stray rejection is
 *   a bug to fix, not a reason to drop every waiting caller and relay. lmdb's twin of a commit
 *   failure the store already reported is logged at debug only.
 * - uncaughtException: the process state is unknown, so it is fatal: logged, a clear line on
 *   stderr, and exit code 70 (EX_SOFTWARE), never a silent death.
 */
import type { Logger } from 'pino';

export const FATAL_EXIT_CODE = 70;

export interface ProcessGuard {
  uninstall(): void;
}

export function installProcessGuard(logger: Logger, proc: NodeJS.Process = process): ProcessGuard {
  const onRejection = (reason: unknown): void => {
    if (isLmdbCommitTwin(reason)) {
      // Observe the cause too, or it becomes the next unhandled rejection.
      (reason as { commitError: Promise<unknown> }).commitError.catch(() => undefined);
      logger.debug({ err: errorFields(reason) }, 'unobserved lmdb commit failure (already reported by the store)');
      return;
    }
    logger.error({ err: errorFields(reason) }, 'unhandled promise rejection; the hub keeps running');
  };
  const onException = (err: Error): void => {
    logger.fatal({ err: errorFields(err) }, 'uncaught exception; the hub stops');
    logger.flush?.();
    proc.stderr.write(`edgepush hub: fatal: ${err.message}\n`);
    proc.exit(FATAL_EXIT_CODE);
  };
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return {
    uninstall() {
      proc.off('unhandledRejection', onRejection);
      proc.off('uncaughtException', onException);
    },
  };
}

function isLmdbCommitTwin(reason: unknown): boolean {
  const commitError = (reason as { commitError?: { catch?: unknown } } | null)?.commitError;
  return reason instanceof Error && typeof commitError?.catch === 'function';
}

/** Message, name, code and stack: never the whole object (it might hold a request body). */
function errorFields(reason: unknown): Record<string, unknown> {
  if (!(reason instanceof Error)) return { value: typeof reason === 'string' ? reason : typeof reason };
  const fields: Record<string, unknown> = { name: reason.name, message: reason.message, stack: reason.stack };
  const code = (reason as { code?: unknown }).code;
  if (code !== undefined) fields.code = code;
  return fields;
}
