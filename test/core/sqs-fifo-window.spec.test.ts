/**
 * Offline spec test for an SQS rule the emulator does not show (fauxqs scans every message):
 * "FIFO queues scan the first 120,000 messages to determine available message groups. If a
 * large backlog builds up in a single message group, messages from other groups sent later will
 * remain blocked until the backlog is processed."
 * Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/avoid-backlog-with-the-same-message-group-id.html
 *
 * The queue limits are what keep one stuck device, or one agent, from filling that window.
 */
import { DEFAULT_CONFIG } from '../../lambdas/core/core-config';

const FIFO_GROUP_SCAN_WINDOW = 120_000;

describe('queue limits vs the SQS FIFO group-scan window', () => {
  it("keeps one destination's backlog, and one agent's, well inside the first 120,000 messages", () => {
    expect(DEFAULT_CONFIG.maxQueuedPerDestination).toBeLessThanOrEqual(DEFAULT_CONFIG.maxQueuedPerAgent);
    // One agent with every destination stuck still leaves most of the window to the others.
    expect(DEFAULT_CONFIG.maxQueuedPerAgent * 10).toBeLessThanOrEqual(FIFO_GROUP_SCAN_WINDOW);
  });

  it('bounds the groups an agent can open before its relay names its devices', () => {
    // Each destination is a message group; each open group holds at least one message.
    expect(DEFAULT_CONFIG.maxDestinationsBeforeHello).toBeLessThanOrEqual(DEFAULT_CONFIG.maxQueuedPerAgent);
    expect(DEFAULT_CONFIG.maxDestinationsBeforeHello * DEFAULT_CONFIG.maxQueuedPerDestination).toBeLessThan(FIFO_GROUP_SCAN_WINDOW);
  });
});
