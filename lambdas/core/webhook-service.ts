/**
 * An agent's webhook: set (a new signing secret, shown once), read (never the secret), delete.
 * The secret is sealed (webhook-secret.ts) because every delivery must sign with it.
 */
import { getAgent } from './agent-service';
import type { CoreConfig } from './core-config';
import { DomainError } from './domain-errors';
import type { Ports } from './ports';
import { generateWebhookSecret, sealSecret } from './webhook-secret';

export const MAX_WEBHOOK_URL_LENGTH = 2048;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface WebhookView {
  url: string;
  createdAt: string;
}

/** https only; plain http only to this machine, and only where the platform allows it (the hub). */
export function parseWebhookUrl(value: unknown, config: Pick<CoreConfig, 'allowLocalHttpWebhooks'>): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new DomainError('INVALID_WEBHOOK_URL', 'url is required: {"url": "https://…"}');
  if (value.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new DomainError('INVALID_WEBHOOK_URL', `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DomainError('INVALID_WEBHOOK_URL', 'url is not an absolute URL (e.g. https://app.example.com/hl7)');
  }
  // Credentials in the URL would be stored and shown in the clear; the signature authenticates us.
  if (url.username || url.password) throw new DomainError('INVALID_WEBHOOK_URL', 'url must not contain a user name or password');
  if (url.hash) throw new DomainError('INVALID_WEBHOOK_URL', 'url must not contain a #fragment');
  if (url.protocol === 'https:') return url.toString();
  const local = LOCAL_HOSTS.has(url.hostname);
  if (url.protocol === 'http:' && local && config.allowLocalHttpWebhooks) return url.toString();
  if (url.protocol === 'http:' && local) {
    throw new DomainError('INVALID_WEBHOOK_URL', 'url must be https:// here (plain http to localhost is allowed on the hub only)');
  }
  if (url.protocol === 'http:') {
    throw new DomainError('INVALID_WEBHOOK_URL', 'url must be https:// (plain http only to localhost, 127.0.0.1 or [::1] on the hub)');
  }
  throw new DomainError('INVALID_WEBHOOK_URL', `url must be https://, not ${url.protocol}`);
}

/** Replaces the agent's webhook; the new secret is returned once and the old one stops signing. */
export async function setWebhook(
  ports: Ports,
  config: CoreConfig,
  agentId: string,
  rawUrl: unknown,
): Promise<{ url: string; secret: string }> {
  const url = parseWebhookUrl(rawUrl, config);
  await getAgent(ports, agentId);
  const secret = generateWebhookSecret();
  const secretSealed = sealSecret(secret, agentId, await ports.secretKey.get());
  await ports.inbound.webhooks.put({ agentId, url, secretSealed, createdAt: ports.clock.now() });
  ports.log?.info('webhook set', { agentId });
  return { url, secret };
}

export async function getWebhook(ports: Ports, agentId: string): Promise<WebhookView> {
  await getAgent(ports, agentId);
  const hook = await ports.inbound.webhooks.get(agentId);
  if (!hook) throw new DomainError('WEBHOOK_NOT_FOUND', `agent ${agentId} has no webhook: set one with PUT /agents/${agentId}/webhook`);
  return { url: hook.url, createdAt: new Date(hook.createdAt).toISOString() };
}

/** Messages already pending keep their delivery state; their next attempt finds no webhook and ends it. */
export async function deleteWebhook(ports: Ports, agentId: string): Promise<void> {
  await getAgent(ports, agentId);
  if (!(await ports.inbound.webhooks.delete(agentId))) {
    throw new DomainError('WEBHOOK_NOT_FOUND', `agent ${agentId} has no webhook`);
  }
  ports.log?.info('webhook deleted', { agentId });
}
