/**
 * Connect attempts with backoff, for one send: try, wait, try again, up to maxAttempts. The
 * last attempt's error is what the caller sees. Aborting (client closed) ends it at once.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { equalJitterDelay, type BackoffOptions } from '../backoff';
import { connectSocket } from './connect';
import { DeviceError } from './device-error';

export interface ReconnectOptions extends BackoffOptions {
  maxAttempts: number;
}

export interface DialOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  reconnect: ReconnectOptions;
  signal: AbortSignal;
  logger: Logger;
}

export async function dialWithBackoff(options: DialOptions): Promise<Socket> {
  const { host, port, connectTimeoutMs, reconnect, signal, logger } = options;
  const attempts = Math.max(1, reconnect.maxAttempts);
  let lastError: DeviceError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(equalJitterDelay(attempt - 1, reconnect), undefined, { signal }).catch(() => undefined);
    if (signal.aborted) throw new DeviceError('CLIENT_CLOSED', 'the device client was closed while connecting', false);
    try {
      const socket = await connectSocket(host, port, connectTimeoutMs);
      if (signal.aborted) {
        socket.destroy();
        throw new DeviceError('CLIENT_CLOSED', 'the device client was closed while connecting', false);
      }
      logger.debug({ attempt }, 'connected to device');
      return socket;
    } catch (err) {
      if ((err as DeviceError).code === 'CLIENT_CLOSED') throw err;
      lastError = err as DeviceError;
      logger.debug({ attempt, code: lastError.code }, 'connect attempt failed');
    }
  }
  throw lastError!;
}
