/**
 * The one place the core reaches the optional inbound ports (Ports.inbound), so a platform that
 * has not wired them yet fails with a message that names the gap instead of a TypeError.
 */
import type { InboundPorts, Ports } from './ports';

export function inboundPorts(ports: Ports): InboundPorts {
  if (!ports.inbound) {
    throw new Error('inbound messages are not wired on this platform: Ports.inbound (store, webhooks, queue, sender, watcher) is missing');
  }
  return ports.inbound;
}
