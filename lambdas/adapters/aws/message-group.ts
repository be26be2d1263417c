/**
 * SQS FIFO MessageGroupId for (agent, destination): FIFO order holds per group, so per
 * destination. Group ids allow 1-128 chars of [A-Za-z0-9] and ASCII punctuation; agent and
 * device names may hold anything, so the readable part is sanitised and truncated and a hash
 * of the exact pair keeps distinct pairs in distinct groups.
 */
import { createHash } from 'node:crypto';

const UNSAFE = /[^A-Za-z0-9!-/:-@[-`{-~]/g;

export function messageGroupId(agentId: string, destination: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([agentId, destination]))
    .digest('hex')
    .slice(0, 32);
  const readable = `${agentId.replace(UNSAFE, '_').slice(0, 40)}/${destination.replace(UNSAFE, '_').slice(0, 40)}`;
  return `${readable}#${hash}`;
}
