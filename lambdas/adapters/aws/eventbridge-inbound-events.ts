/**
 * InboundEvents on an EventBridge bus given to the construct: one event per stored message.
 * The event is a pointer with the message's metadata, never the body: bodies are PHI (rules may
 * route events anywhere, archives keep them), and an entry is at most 256 KB while a body may be
 * 10 MB (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html). A
 * consumer reads the body with GET /messages/{messageId}.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import type { InboundRecord } from '../../core/inbound-records';
import type { InboundEvents } from '../../core/ports';

export const EVENT_SOURCE = 'edgepush';
export const EVENT_DETAIL_TYPE = 'Inbound message stored';

export function inboundEventEntry(busName: string, message: InboundRecord): PutEventsCommandInput {
  const detail = {
    messageId: message.messageId,
    agentId: message.agentId,
    channel: message.channel,
    contentType: message.contentType,
    controlId: message.controlId,
    messageType: message.messageType,
    receivedAt: message.receivedAt,
    storedAt: message.storedAt,
    cursor: message.cursor,
  };
  return {
    Entries: [
      {
        EventBusName: busName,
        Source: EVENT_SOURCE,
        DetailType: EVENT_DETAIL_TYPE,
        Time: new Date(message.storedAt),
        Detail: JSON.stringify(detail),
      },
    ],
  };
}

export class EventBridgeInboundEvents implements InboundEvents {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(message: InboundRecord): Promise<void> {
    const out = await this.client.send(new PutEventsCommand(inboundEventEntry(this.busName, message)));
    // PutEvents answers 200 with per-entry failures (throttling, an internal error).
    if (out.FailedEntryCount) {
      const entry = out.Entries?.find((e) => e.ErrorCode);
      throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }
}
