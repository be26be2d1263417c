/**
 * The timeout budget holds: the cloud waits for a result longer than the relay can take for one
 * push. Read from the defaults each side really uses, so changing either side alone fails here.
 */
import { DEFAULT_CONFIG } from '../../../lambdas/core/core-config';
import { equalJitterDelay } from '../../../edge-agent/backoff';
import { DEFAULTS } from '../../../edge-agent/relay/config-schema';
import { DEVICE_RECONNECT } from '../../../edge-agent/relay/devices';
import { DEFAULT_RELAY_PUSH_TIMEOUTS, DEFAULT_RESULT_TIMEOUT_MS, relayWorstCaseMs } from '../../../protocol/timeouts';

/** Every connect attempt times out after the longest backoff, then the device takes the whole ACK timeout. */
function relayWorstCase(): number {
  let ms = DEVICE_RECONNECT.maxAttempts * DEFAULTS.device.connectTimeoutMs + DEFAULTS.device.ackTimeoutMs;
  for (let retry = 1; retry < DEVICE_RECONNECT.maxAttempts; retry++) ms += equalJitterDelay(retry, DEVICE_RECONNECT, () => 1);
  return ms;
}

describe('timeout budget', () => {
  it("the cloud's result timeout exceeds the relay's worst case for one push", () => {
    expect(relayWorstCase()).toBeGreaterThanOrEqual(DEVICE_RECONNECT.maxAttempts * DEFAULTS.device.connectTimeoutMs);
    expect(DEFAULT_CONFIG.resultTimeoutMs).toBeGreaterThan(relayWorstCase());
  });

  it('the budget in protocol/ is what both sides use, and bounds the real worst case', () => {
    expect(DEFAULTS.device.connectTimeoutMs).toBe(DEFAULT_RELAY_PUSH_TIMEOUTS.connectTimeoutMs);
    expect(DEFAULTS.device.ackTimeoutMs).toBe(DEFAULT_RELAY_PUSH_TIMEOUTS.ackTimeoutMs);
    expect(DEVICE_RECONNECT.maxAttempts).toBe(DEFAULT_RELAY_PUSH_TIMEOUTS.connectAttempts);
    expect(DEFAULT_CONFIG.resultTimeoutMs).toBe(DEFAULT_RESULT_TIMEOUT_MS);
    expect(relayWorstCaseMs(DEFAULT_RELAY_PUSH_TIMEOUTS)).toBeGreaterThanOrEqual(relayWorstCase());
  });

  it('relayWorstCaseMs: attempts x connect timeout, the backoffs between them, and the ACK timeout', () => {
    expect(relayWorstCaseMs({ connectAttempts: 2, connectTimeoutMs: 5_000, connectBackoffMaxMs: 1_000, ackTimeoutMs: 30_000 })).toBe(
      41_000,
    );
    expect(relayWorstCaseMs({ connectAttempts: 1, connectTimeoutMs: 5_000, connectBackoffMaxMs: 1_000, ackTimeoutMs: 10_000 })).toBe(
      15_000,
    );
  });
});
