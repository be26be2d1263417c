/**
 * Why a queued push is waiting, said at once in its JSON (`waitReason`) rather than after a
 * silent waitTimeout: its agent's relay is not connected, the agent is disabled, or the device
 * failed the last attempt (the relay's retryable error, kept on the push).
 */
import type { Ports } from './ports';
import type { AgentRecord, PushSummary } from './records';

export type WaitReasonCode = 'AGENT_NOT_CONNECTED' | 'AGENT_DISABLED' | 'DEVICE_UNREACHABLE';

export interface WaitReason {
  code: WaitReasonCode;
  /** For people: e.g. "agent site-2 is not connected (last seen: never)". */
  message: string;
}

/** undefined when the push is not queued, or nothing is known to hold it up. */
export function waitReasonOf(
  push: Pick<PushSummary, 'status' | 'destination' | 'error' | 'attempts'>,
  agent: AgentRecord | undefined,
): WaitReason | undefined {
  if (push.status !== 'queued' || !agent) return undefined;
  if (agent.disabled) return { code: 'AGENT_DISABLED', message: `agent ${agent.agentId} is disabled` };
  if (!agent.connectionId) {
    const seen = agent.lastSeenAt === undefined ? 'never' : new Date(agent.lastSeenAt).toISOString();
    return { code: 'AGENT_NOT_CONNECTED', message: `agent ${agent.agentId} is not connected (last seen: ${seen})` };
  }
  if (push.error === undefined || push.attempts === 0) return undefined;
  const attempt = `(attempt ${push.attempts})`;
  const device = `device ${push.destination}`;
  if (push.error.startsWith('CONNECT_REFUSED') && push.error.includes('connection refused')) {
    return { code: 'DEVICE_UNREACHABLE', message: `${device} refuses connections ${attempt}` };
  }
  if (push.error.startsWith('CONNECT_TIMEOUT'))
    return { code: 'DEVICE_UNREACHABLE', message: `${device} does not answer connection attempts ${attempt}` };
  return { code: 'DEVICE_UNREACHABLE', message: `${device} could not be reached: ${push.error} ${attempt}` };
}

/** Reads each agent once for a set of pushes (a list page), and says why each queued one waits. */
export async function waitReasons(ports: Ports, pushes: readonly PushSummary[]): Promise<(WaitReason | undefined)[]> {
  const agents = new Map<string, Promise<AgentRecord | undefined>>();
  return Promise.all(
    pushes.map(async (p) => {
      if (p.status !== 'queued') return undefined;
      // Best effort: a push that is stored is answered even when the agent cannot be read now.
      if (!agents.has(p.agentId))
        agents.set(
          p.agentId,
          ports.agents.get(p.agentId).catch(() => undefined),
        );
      return waitReasonOf(p, await agents.get(p.agentId));
    }),
  );
}
