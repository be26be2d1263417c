/** Builders for the core's records, shared by the store, queue, contract and core tests. */
import { createHash, randomUUID } from 'node:crypto';
import type { InboundRecord } from '../../lambdas/core/inbound-records';
import type { AgentRecord, PushRecord } from '../../lambdas/core/records';

const BODY = 'MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|MSG1|P|2.5\rPID|1||123\r';

export const bodyHash = (body: string): string => createHash('sha256').update(body).digest('hex');

/** A queued push for agent-1's `lab`, created now, expiring in an hour; `overrides` win. */
export function newPush(overrides: Partial<PushRecord> = {}): PushRecord {
  const body = overrides.body ?? BODY;
  const createdAt = overrides.createdAt ?? Date.now();
  return {
    pushId: randomUUID(),
    agentId: 'agent-1',
    destination: 'lab',
    contentType: 'x-application/hl7-v2+er7',
    body,
    bodyHash: bodyHash(body),
    returnAck: 'first',
    status: 'queued',
    attempts: 0,
    createdAt,
    expiresAt: createdAt + 3_600_000,
    ...overrides,
  };
}

/** An agent with a fresh id and no connection. */
export function newAgent(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return { agentId: `agent-${randomUUID().slice(0, 8)}`, secretHash: 'scrypt$x', createdAt: Date.now(), devices: [], ...overrides };
}

/** An inbound ORU on agent-1's `lab-in`, stored now, pending delivery; `overrides` win. */
export function newInbound(overrides: Partial<Omit<InboundRecord, 'cursor'>> = {}): Omit<InboundRecord, 'cursor'> {
  const storedAt = overrides.storedAt ?? Date.now();
  const controlId = overrides.controlId ?? `C${randomUUID().slice(0, 8)}`;
  return {
    messageId: randomUUID(),
    agentId: 'agent-1',
    channel: 'lab-in',
    inboundId: randomUUID(),
    dedupeKey: overrides.dedupeKey ?? controlId,
    contentType: 'x-application/hl7-v2+er7',
    body: `MSH|^~\\&|LAB|DEV|EP|HUB|20240101000000||ORU^R01|${controlId}|P|2.5\rOBX|1|ST|X||42\r`,
    controlId,
    messageType: 'ORU^R01',
    ack: 'cloud',
    receivedAt: storedAt - 5,
    storedAt,
    expiresAt: storedAt + 30 * 86_400_000,
    delivery: { status: 'pending', attempts: 0 },
    ...overrides,
  };
}
