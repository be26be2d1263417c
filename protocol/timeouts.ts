/**
 * The timeout budget of one push, from which both sides' defaults derive.
 *
 * The cloud sends a push, then waits `resultTimeoutMs` for the relay's result before it counts
 * the attempt as lost and sends the push again (after `maxAttempts` it fails the push). That
 * wait must outlast the longest the relay can take for one push, or the cloud counts attempts
 * while the relay is still delivering and can fail a push whose ACK is on its way.
 *
 * The relay's worst case for one push: every connect attempt times out, with the longest
 * backoff between attempts, and then the device takes the whole ACK timeout.
 */

/** Connect attempts per push: few, so a dead device fails fast; the cloud retries later (retryable). */
export const DEVICE_CONNECT_ATTEMPTS = 2;
export const DEVICE_CONNECT_TIMEOUT_MS = 5_000;
/** Backoff between connect attempts within one push. */
export const DEVICE_CONNECT_BACKOFF = { initialDelayMs: 100, maxDelayMs: 1_000 } as const;
/** How long the relay waits for a device's ACK once the message is written. */
export const DEVICE_ACK_TIMEOUT_MS = 30_000;
/** On top of the relay's worst case: the result's trip back over the WebSocket and the cloud's own work. */
export const RESULT_TIMEOUT_MARGIN_MS = 5_000;

export interface RelayPushTimeouts {
  connectAttempts: number;
  connectTimeoutMs: number;
  /** The longest wait between two connect attempts. */
  connectBackoffMaxMs: number;
  ackTimeoutMs: number;
}

export const DEFAULT_RELAY_PUSH_TIMEOUTS: RelayPushTimeouts = {
  connectAttempts: DEVICE_CONNECT_ATTEMPTS,
  connectTimeoutMs: DEVICE_CONNECT_TIMEOUT_MS,
  connectBackoffMaxMs: DEVICE_CONNECT_BACKOFF.maxDelayMs,
  ackTimeoutMs: DEVICE_ACK_TIMEOUT_MS,
};

/** The longest the relay takes from receiving a push to having its result. */
export function relayWorstCaseMs(t: RelayPushTimeouts): number {
  return t.connectAttempts * t.connectTimeoutMs + Math.max(0, t.connectAttempts - 1) * t.connectBackoffMaxMs + t.ackTimeoutMs;
}

/** The cloud's default wait for a result: the relay's worst case plus the margin (46 s). */
export const DEFAULT_RESULT_TIMEOUT_MS = relayWorstCaseMs(DEFAULT_RELAY_PUSH_TIMEOUTS) + RESULT_TIMEOUT_MARGIN_MS;
