/** Records → the JSON shapes the API returns. */
import type { AgentRecord, AgentView, PushRecord, PushSummary, PushView } from './records';
import type { WaitReason } from './wait-reason';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** `p` may be a list summary (no body, no response): the view never carries the body anyway. */
export function pushView(p: PushSummary & Partial<Pick<PushRecord, 'response' | 'lateResult'>>, waitReason?: WaitReason): PushView {
  const view: PushView = {
    pushId: p.pushId,
    agentId: p.agentId,
    destination: p.destination,
    status: p.status,
    attempts: p.attempts,
    createdAt: iso(p.createdAt)!,
    expiresAt: iso(p.expiresAt)!,
  };
  if (p.ackCode !== undefined) view.ackCode = p.ackCode;
  if (p.response !== undefined) view.response = p.response;
  if (p.error !== undefined) view.error = p.error;
  if (p.completedAt !== undefined) view.completedAt = iso(p.completedAt);
  if (p.lateResult !== undefined) view.deliveredAfterExpiry = { ...p.lateResult, receivedAt: iso(p.lateResult.receivedAt)! };
  if (p.resendOf !== undefined) view.resendOf = p.resendOf;
  if (waitReason !== undefined) view.waitReason = waitReason;
  return view;
}

/** `queueDepths`: open pushes per destination (GET /agents/{agentId} reads them; lists do not). */
export function agentView(a: AgentRecord, queueDepths?: Record<string, number>): AgentView {
  const view: AgentView = {
    agentId: a.agentId,
    status: a.disabled ? 'disabled' : a.connectionId ? 'connected' : 'disconnected',
    devices: (a.devices ?? []).map((name) => {
      const device: AgentView['devices'][number] = { name };
      const kind = a.deviceProtocols?.[name];
      if (kind !== undefined) device.kind = kind;
      if (queueDepths !== undefined) device.queueDepth = queueDepths[name] ?? 0;
      return device;
    }),
  };
  if (a.connectedAt !== undefined) view.connectedAt = iso(a.connectedAt);
  if (a.lastSeenAt !== undefined) view.lastSeenAt = iso(a.lastSeenAt);
  if (a.version !== undefined) view.version = a.version;
  if (a.conflictAt !== undefined) view.conflict = { at: iso(a.conflictAt)!, count: a.conflictCount ?? 1 };
  return view;
}
