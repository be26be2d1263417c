/** The inbound routes: an agent's webhook (admin scope), and reading its messages (receive scope). */
import { validateAgentId } from '../core/agent-service';
import type { CoreConfig } from '../core/core-config';
import { parsePullQuery, pullMessages, readInbound } from '../core/inbound-pull';
import type { Ports } from '../core/ports';
import { parseJsonBody } from '../core/push-request';
import { deleteWebhook, getWebhook, setWebhook } from '../core/webhook-service';
import { json } from './responses';
import type { HttpRequest, HttpResponse } from './http-types';

/** PUT /agents/{id}/webhook {url} -> {url, secret}: the secret is shown this once. */
export async function putWebhook(ports: Ports, config: CoreConfig, req: HttpRequest, agentId: string): Promise<HttpResponse> {
  const body = parseJsonBody(req.body);
  return json(200, await setWebhook(ports, config, validateAgentId(agentId), body.url));
}

export async function readWebhook(ports: Ports, agentId: string): Promise<HttpResponse> {
  return json(200, await getWebhook(ports, validateAgentId(agentId)));
}

export async function removeWebhook(ports: Ports, agentId: string): Promise<HttpResponse> {
  await deleteWebhook(ports, validateAgentId(agentId));
  return { status: 204, headers: {}, body: '' };
}

/** GET /agents/{id}/messages?channel=&after=&limit=&wait=: oldest first from the cursor, long poll with wait. */
export async function readMessages(ports: Ports, req: HttpRequest, agentId: string): Promise<HttpResponse> {
  const query = parsePullQuery(req.query ?? {});
  return json(200, await pullMessages(ports, validateAgentId(agentId), query, req.deadline));
}

export async function readMessage(ports: Ports, messageId: string): Promise<HttpResponse> {
  return json(200, await readInbound(ports, messageId));
}
