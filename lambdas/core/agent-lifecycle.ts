/** Listing, disabling, re-keying and deleting agents (GET/PATCH/DELETE /agents, POST /agents/{id}/secret). */
import { DomainError } from './domain-errors';
import type { Ports } from './ports';
import type { AgentRecord } from './records';
import { generateSecret, hashSecret } from './secrets';
import { getAgent } from './agent-service';

export function listAgents(ports: Ports): Promise<AgentRecord[]> {
  return ports.agents.list();
}

/** Closes the agent's live relay connection, if any: a disabled or re-keyed relay must not keep its session. */
async function dropConnection(ports: Ports, agent: AgentRecord, why: string): Promise<void> {
  if (!agent.connectionId) return;
  try {
    await ports.gateway.close(agent.connectionId, 'revoked');
    ports.log?.info('relay connection closed', { agentId: agent.agentId, why });
  } catch (err) {
    // The connection is refused at its next connect anyway; the state change stands.
    ports.log?.warn('closing the relay connection failed', { agentId: agent.agentId, why, error: (err as Error).message });
  }
}

export function parseAgentPatch(body: Record<string, unknown>): { enabled: boolean } {
  if (typeof body.enabled !== 'boolean' || Object.keys(body).length !== 1) {
    throw new DomainError('INVALID_AGENT_PATCH', 'send {"enabled": true} or {"enabled": false}');
  }
  return { enabled: body.enabled };
}

export async function setAgentEnabled(ports: Ports, agentId: string, enabled: boolean): Promise<AgentRecord> {
  const updated = await ports.agents.setDisabled(agentId, !enabled);
  if (!updated) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} does not exist`);
  ports.log?.info(enabled ? 'agent enabled' : 'agent disabled', { agentId });
  if (!enabled) await dropConnection(ports, updated, 'disabled');
  return updated;
}

/** A new secret, returned once; the old one stops working and its connection is closed. */
export async function rotateSecret(ports: Ports, agentId: string): Promise<{ agentId: string; secret: string }> {
  const agent = await getAgent(ports, agentId);
  const secret = generateSecret();
  const replaced = await ports.agents.replaceSecretHash(agentId, agent.secretHash, hashSecret(secret, await ports.secretKey.get()));
  // Another rotation (or a hash migration) won the race: the caller can simply rotate again.
  if (!replaced) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} changed while its secret was rotated; try again`);
  ports.log?.info('agent secret rotated', { agentId });
  await dropConnection(ports, agent, 'secret rotated');
  return { agentId, secret };
}

export async function deleteAgent(ports: Ports, agentId: string): Promise<void> {
  const agent = await getAgent(ports, agentId);
  if (!(await ports.agents.delete(agentId))) throw new DomainError('AGENT_NOT_FOUND', `agent ${agentId} does not exist`);
  ports.log?.info('agent deleted', { agentId });
  await dropConnection(ports, agent, 'deleted');
  // An agent created later with the same id must not inherit this one's webhook (URL and secret).
  // Its stored messages stay until retention, as its pushes do.
  await ports.inbound.webhooks.delete(agentId);
}
