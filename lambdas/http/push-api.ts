/** The native JSON API: thin handlers that parse, call the domain, and map to a response. */
import type { CoreConfig } from '../core/core-config';
import { createAgent, getAgent, validateAgentId } from '../core/agent-service';
import { deleteAgent, listAgents, parseAgentPatch, rotateSecret, setAgentEnabled } from '../core/agent-lifecycle';
import type { Ports } from '../core/ports';
import { parseJsonBody, parsePushRequest } from '../core/push-request';
import { acceptPush, getPush } from '../core/push-service';
import { cancelPush, resendPush } from '../core/push-management';
import { encodeCursor, listPushes, parseListQuery } from '../core/push-list';
import { isTerminal, type PushRecord, type PushStatus } from '../core/records';
import { agentView, pushView } from '../core/views';
import { json } from './responses';
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

export function pushResponse(req: HttpRequest, push: PushRecord, waited: boolean, notWaited?: string): HttpResponse {
  const status = waited ? STATUS_CODE[push.status] : 202;
  const headers: Record<string, string> = {};
  if (status === 202 || push.status === 'queued' || push.status === 'sent') headers.location = location(req, push.pushId);
  if (notWaited) headers[NOT_WAITED_HEADER] = notWaited;
  return json(status, pushView(push), headers);
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
  const request = parsePushRequest(body, config.maxBodyBytes);
  const { push, relayConnected } = await acceptPush(ports, agentId, request, config);
  if (!request.waitForResponse) return { push, waited: false };
  // No relay: nothing can answer before one connects, so say so now rather than bill the wait.
  if (skipWaitWhenOffline && !relayConnected) return { push, waited: true, notWaited: NOT_WAITED_OFFLINE };
  // The push is stored and queued now: whatever goes wrong while waiting, answer as for a push
  // still in flight (504 + Location), never 500, which callers (MedplumClient too) resend.
  try {
    // A push that expires before waitTimeout is answered at its expiresAt: the read expires it
    // even while it waits behind another push (where no dispatcher looks at it). The wait also
    // ends by the Lambda's deadline, so a stored push is never answered with a 5xx.
    const waitTimeoutMs =
      deadline === undefined ? request.waitTimeoutMs : Math.max(0, Math.min(request.waitTimeoutMs, deadline - Date.now()));
    const waitUntil = Date.now() + waitTimeoutMs;
    const untilExpiry = push.expiresAt - ports.clock.now();
    let done = await ports.watcher.waitForTerminal(push.pushId, Math.max(0, Math.min(waitTimeoutMs, untilExpiry)));
    if (!done && untilExpiry < waitTimeoutMs) {
      const current = await getPush(ports, push.pushId);
      done = isTerminal(current.status) ? current : await ports.watcher.waitForTerminal(push.pushId, Math.max(0, waitUntil - Date.now()));
    }
    return { push: done ?? (await getPush(ports, push.pushId)), waited: true };
  } catch (err) {
    ports.log?.warn('waiting for the result failed; answering as in flight', { pushId: push.pushId, error: (err as Error).message });
    return { push, waited: true };
  }
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
  return pushResponse(req, push, waited, notWaited);
}

export async function readPush(ports: Ports, pushId: string): Promise<HttpResponse> {
  return json(200, pushView(await getPush(ports, pushId)));
}

export async function postAgent(ports: Ports, req: HttpRequest): Promise<HttpResponse> {
  const body = parseJsonBody(req.body);
  return json(201, await createAgent(ports, validateAgentId(body.agentId)));
}

export async function readAgent(ports: Ports, agentId: string): Promise<HttpResponse> {
  return json(200, agentView(await getAgent(ports, validateAgentId(agentId))));
}

/** GET /pushes: newest first, no bodies; `next` is the cursor of the following page. */
export async function readPushes(ports: Ports, req: HttpRequest): Promise<HttpResponse> {
  const page = await listPushes(ports, parseListQuery(req.query ?? {}));
  const body: { pushes: ReturnType<typeof pushView>[]; next?: string } = { pushes: page.pushes.map(pushView) };
  if (page.next) body.next = encodeCursor(page.next);
  return json(200, body);
}

export async function postCancel(ports: Ports, pushId: string): Promise<HttpResponse> {
  return json(200, pushView(await cancelPush(ports, pushId)));
}

/** Answered like a push sent with waitForResponse:false: 202 + Location. */
export async function postResend(ports: Ports, config: CoreConfig, req: HttpRequest, pushId: string): Promise<HttpResponse> {
  return pushResponse(req, await resendPush(ports, config, pushId), false);
}

export async function readAgents(ports: Ports): Promise<HttpResponse> {
  return json(200, { agents: (await listAgents(ports)).map(agentView) });
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
