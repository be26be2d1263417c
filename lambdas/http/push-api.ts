/** The native JSON API: thin handlers that parse, call the domain, and map to a response. */
import type { CoreConfig } from '../core/core-config';
import { createAgent, getAgent, validateAgentId } from '../core/agent-service';
import { deleteAgent, listAgents, parseAgentPatch, rotateSecret, setAgentEnabled } from '../core/agent-lifecycle';
import type { Ports } from '../core/ports';
import { parseJsonBody, parsePushRequest } from '../core/push-request';
import { acceptPush, getPush } from '../core/push-service';
import { mappedPushRequest } from '../core/mapped-push';
import { cancelPush, resendPush } from '../core/push-management';
import { encodeCursor, listPushes, parseListQuery } from '../core/push-list';
import { isTerminal, type PushRecord, type PushStatus } from '../core/records';
import { agentView, pushView } from '../core/views';
import { waitReasons } from '../core/wait-reason';
import { json } from './responses';
import { mayActOn } from './agent-access';
import type { HttpRequest, HttpResponse } from './http-types';

/** HTTP status for a push, per DESIGN.md. */
const STATUS_CODE: Record<PushStatus, number> = {
  acked: 200,
  nacked: 422,
  failed: 502,
  expired: 504,
  // A cancelled push is answered like the other negative outcomes that did not reach the device.
  cancelled: 409,
  queued: 504,
  sent: 504,
};

export function location(req: HttpRequest, pushId: string): string {
  return `${req.baseUrl ?? ''}/pushes/${encodeURIComponent(pushId)}`;
}

export async function pushResponse(
  ports: Ports,
  req: HttpRequest,
  push: PushRecord,
  waited: boolean,
  notWaited?: string,
): Promise<HttpResponse> {
  const status = waited ? STATUS_CODE[push.status] : 202;
  const headers: Record<string, string> = {};
  if (status === 202 || push.status === 'queued' || push.status === 'sent') headers.location = location(req, push.pushId);
  if (notWaited) headers[NOT_WAITED_HEADER] = notWaited;
  return json(status, await viewOf(ports, push), headers);
}

/** The push JSON, with why it waits when it is queued. */
export async function viewOf(ports: Ports, push: PushRecord): Promise<ReturnType<typeof pushView>> {
  const [reason] = await waitReasons(ports, [push]);
  return pushView(push, reason);
}

/** Response header on a push answered without waiting because the agent's relay is not connected. */
export const NOT_WAITED_HEADER = 'edgepush-not-waited';
export const NOT_WAITED_OFFLINE = 'relay-not-connected';

export interface Submitted {
  push: PushRecord;
  waited: boolean;
  /** Set when the caller asked to wait but was answered at once (the relay is not connected). */
  notWaited?: typeof NOT_WAITED_OFFLINE;
}

/** Accepts a push and, when asked, waits for its result. Shared with the Medplum route. */
export async function submitPush(
  ports: Ports,
  config: CoreConfig,
  agentId: string,
  body: Record<string, unknown>,
  deadline?: number,
  skipWaitWhenOffline = false,
): Promise<Submitted> {
  const request = (await mappedPushRequest(ports, agentId, body, config.maxBodyBytes)) ?? parsePushRequest(body, config.maxBodyBytes);
  const { push, relayConnected } = await acceptPush(ports, agentId, request, config);
  if (!request.waitForResponse) return { push, waited: false };
  // No relay: nothing can answer before one connects, so say so now rather than bill the wait.
  if (skipWaitWhenOffline && !relayConnected) return { push, waited: true, notWaited: NOT_WAITED_OFFLINE };
  // The push is stored and queued now: whatever goes wrong while waiting, answer as for a push
  // still in flight (504 + Location), never 500, which callers (MedplumClient too) resend.
  try {
    // The wait ends by the Lambda's deadline too, so a stored push is never answered with a 5xx.
    const waitTimeoutMs =
      deadline === undefined ? request.waitTimeoutMs : Math.max(0, Math.min(request.waitTimeoutMs, deadline - Date.now()));
    const waitUntil = Date.now() + waitTimeoutMs;
    // No relay connected: after a short grace (a relay rotating its connection is back within
    // it), say so (504 + Location + waitReason) rather than wait out waitTimeout in silence. A
    // relay that connects later still gets the push; the caller follows the Location.
    const agent = await ports.agents.get(agentId).catch(() => undefined);
    const offline = agent !== undefined && !agent.connectionId;
    let done = await waitForEnd(ports, push, offline ? Math.min(waitUntil, Date.now() + OFFLINE_GRACE_MS) : waitUntil);
    if (!done && offline && Date.now() < waitUntil && (await ports.agents.get(agentId))?.connectionId) {
      done = await waitForEnd(ports, push, waitUntil);
    }
    return { push: done ?? (await getPush(ports, push.pushId)), waited: true };
  } catch (err) {
    ports.log?.warn('waiting for the result failed; answering as in flight', { pushId: push.pushId, error: (err as Error).message });
    return { push, waited: true };
  }
}

/** How long a waiting caller waits for an agent with no relay connection before being told why. */
export const OFFLINE_GRACE_MS = 2_000;

/**
 * Waits until `until` (epoch ms) for the push to end. A push that expires before then is answered
 * at its expiresAt: the read expires it even while it waits behind another push (where no
 * dispatcher looks at it).
 */
async function waitForEnd(ports: Ports, push: PushRecord, until: number): Promise<PushRecord | undefined> {
  const waitMs = until - Date.now();
  const untilExpiry = push.expiresAt - ports.clock.now();
  const done = await ports.watcher.waitForTerminal(push.pushId, Math.max(0, Math.min(waitMs, untilExpiry)));
  if (done || untilExpiry >= waitMs) return done;
  const current = await getPush(ports, push.pushId);
  return isTerminal(current.status) ? current : await ports.watcher.waitForTerminal(push.pushId, Math.max(0, until - Date.now()));
}

export async function postPush(ports: Ports, config: CoreConfig, req: HttpRequest, agentId: string): Promise<HttpResponse> {
  const { push, waited, notWaited } = await submitPush(
    ports,
    config,
    validateAgentId(agentId),
    parseJsonBody(req.body),
    req.deadline,
    req.skipWaitWhenOffline,
  );
  return pushResponse(ports, req, push, waited, notWaited);
}

export async function readPush(ports: Ports, pushId: string): Promise<HttpResponse> {
  return json(200, await viewOf(ports, await getPush(ports, pushId)));
}

export async function postAgent(ports: Ports, req: HttpRequest): Promise<HttpResponse> {
  const body = parseJsonBody(req.body);
  return json(201, await createAgent(ports, validateAgentId(body.agentId)));
}

/** GET /agents/{agentId}: with each device's kind and queue depth (open pushes). */
export async function readAgent(ports: Ports, agentId: string): Promise<HttpResponse> {
  const agent = await getAgent(ports, validateAgentId(agentId));
  return json(200, agentView(agent, await ports.pushes.queueDepths(agent.agentId, agent.devices ?? [])));
}

/** GET /pushes: newest first, no bodies; `next` is the cursor of the following page. */
export async function readPushes(ports: Ports, req: HttpRequest): Promise<HttpResponse> {
  const page = await listPushes(ports, parseListQuery(req.query ?? {}), req.agents);
  const reasons = await waitReasons(ports, page.pushes);
  const body: { pushes: ReturnType<typeof pushView>[]; next?: string } = { pushes: page.pushes.map((p, i) => pushView(p, reasons[i])) };
  if (page.next) body.next = encodeCursor(page.next);
  return json(200, body);
}

export async function postCancel(ports: Ports, pushId: string): Promise<HttpResponse> {
  return json(200, pushView(await cancelPush(ports, pushId)));
}

/** Answered like a push sent with waitForResponse:false: 202 + Location. */
export async function postResend(ports: Ports, config: CoreConfig, req: HttpRequest, pushId: string): Promise<HttpResponse> {
  return pushResponse(ports, req, await resendPush(ports, config, pushId), false);
}

/** `agents`: a restricted token's agents; the others are left out. */
export async function readAgents(ports: Ports, agents?: readonly string[]): Promise<HttpResponse> {
  const all = await listAgents(ports);
  return json(200, { agents: all.filter((a) => mayActOn(agents, a.agentId)).map((a) => agentView(a)) });
}

/** PATCH /agents/{id} {enabled}: disabling also closes the live relay connection. */
export async function patchAgent(ports: Ports, req: HttpRequest, agentId: string): Promise<HttpResponse> {
  const { enabled } = parseAgentPatch(parseJsonBody(req.body));
  return json(200, agentView(await setAgentEnabled(ports, validateAgentId(agentId), enabled)));
}

export async function postSecret(ports: Ports, agentId: string): Promise<HttpResponse> {
  return json(200, await rotateSecret(ports, validateAgentId(agentId)));
}

export async function removeAgent(ports: Ports, agentId: string): Promise<HttpResponse> {
  await deleteAgent(ports, validateAgentId(agentId));
  return { status: 204, headers: {}, body: '' };
}
