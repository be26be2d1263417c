/** Small builders shared by the hub tests. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentRecord, PushRecord } from '../../lambdas/core/records';

export const BODY = 'MSH|^~\\&|EP|HUB|LAB|DEV|20240101000000||ADT^A01|MSG1|P|2.5\rPID|1||123\r';

export function newPush(overrides: Partial<PushRecord> = {}): PushRecord {
  const body = overrides.body ?? BODY;
  return {
    pushId: randomUUID(),
    agentId: 'agent-1',
    destination: 'lab',
    contentType: 'x-application/hl7-v2+er7',
    body,
    bodyHash: createHash('sha256').update(body).digest('hex'),
    returnAck: 'first',
    status: 'queued',
    attempts: 0,
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    ...overrides,
  };
}

export function newAgent(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return { agentId: `agent-${randomUUID().slice(0, 8)}`, secretHash: 'scrypt$x', createdAt: Date.now(), devices: [], ...overrides };
}

export function tempDir(prefix = 'edgepush-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
