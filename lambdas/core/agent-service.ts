/** Registering agents and checking their secrets. */
import { AGENT_ID_RULE, isAgentId } from '../../protocol/names';
import { DomainError } from './domain-errors';
import type { Ports } from './ports';
import { generateSecret, hashSecret, verifySecret } from './secrets';
import type { AgentRecord } from './records';

export function validateAgentId(agentId: unknown): string {
  if (!isAgentId(agentId)) throw new DomainError('INVALID_AGENT_ID', `agentId must be ${AGENT_ID_RULE}`);
  return agentId;
}

/** Creates an agent and returns its secret: the only time the secret exists in clear. */
export async function createAgent(ports: Ports, agentId: string): Promise<{ agentId: string; secret: string }> {
  const secret = generateSecret();
  const created = await ports.agents.create({
    agentId,
    secretHash: hashSecret(secret, await ports.secretKey.get()),
    createdAt: ports.clock.now(),
    devices: [],
  });
  if (!created) throw new DomainError('AGENT_EXISTS', `agent ${agentId} already exists`);
  ports.log?.info('agent created', { agentId });
  return { agentId, secret };
}

export async function getAgent(ports: Ports, agentId: string): Promise<AgentRecord> {
  const agent = await ports.agents.get(agentId);
  if (!agent) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} does not exist`);
  return agent;
}

export async function authenticateAgent(ports: Ports, agentId: string, secret: string): Promise<boolean> {
  if (!isAgentId(agentId) || secret.length === 0 || secret.length > 256) return false;
  const agent = await ports.agents.get(agentId);
  const key = await ports.secretKey.get();
  // Verify against a decoy when the agent does not exist, so the answer takes as long either
  // way and does not reveal which agent ids are real.
  const verdict = await verifySecret(secret, agent ? agent.secretHash : hashSecret('decoy', key), key);
  if (!verdict.ok || !agent) return false;
  // A disabled agent's relay is refused at connect, with a right secret too.
  if (agent.disabled) {
    ports.log?.warn('relay refused: agent disabled', { agentId });
    return false;
  }
  if (verdict.rehash) {
    // An old scrypt hash: re-store it as HMAC, so this slow check happens once per agent.
    try {
      const migrated = await ports.agents.replaceSecretHash(agentId, agent.secretHash, hashSecret(secret, key));
      ports.log?.info('agent secret hash migrated to hmac', { agentId, migrated });
    } catch (err) {
      ports.log?.warn('agent secret hash migration failed', { agentId, error: (err as Error).message });
    }
  }
  return true;
}
