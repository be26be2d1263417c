/**
 * The two cloud sides a behaviour test can run against: the hub (in-process, lmdb, WebSocket
 * gateway) and the AWS path (the real Lambda handlers on dynalite + fauxqs behind the
 * emulated API Gateways). Core settings go to the hub's options or the Lambdas' env.
 */
import { startHub } from '../../hub/hub';
import { loadOrCreateKeys } from '../../hub/keys';
import { mintToken } from '../../hub/tokens';
import type { CoreConfig } from '../../lambdas/core/core-config';
import { startEmulatedAws } from '../aws/emulated-aws';
import { tempDir } from '../hub/fixtures';

export interface Cloud {
  url: string;
  wsUrl: string;
  api(method: string, path: string, body?: object): Promise<{ status: number; body: Record<string, any> }>;
  stop(): Promise<void>;
}

const ENV: Record<keyof CoreConfig, string> = {
  maxBodyBytes: 'EDGEPUSH_MAX_BODY_BYTES',
  resultTimeoutMs: 'EDGEPUSH_RESULT_TIMEOUT_MS',
  offlineRetryMs: 'EDGEPUSH_OFFLINE_RETRY_MS',
  maxRetryMs: 'EDGEPUSH_MAX_RETRY_MS',
  maxAttempts: 'EDGEPUSH_MAX_ATTEMPTS',
  maxQueuedPerDestination: 'EDGEPUSH_MAX_QUEUED_PER_DESTINATION',
  maxQueuedPerAgent: 'EDGEPUSH_MAX_QUEUED_PER_AGENT',
  maxDestinationsBeforeHello: 'EDGEPUSH_MAX_DESTINATIONS_BEFORE_HELLO',
  liveWindowMs: 'EDGEPUSH_LIVE_WINDOW_MS',
  lastSeenWriteMs: 'EDGEPUSH_LAST_SEEN_WRITE_MS',
  inboundDedupeWindowMs: 'EDGEPUSH_INBOUND_DEDUPE_WINDOW_MS',
  inboundRetentionMs: 'EDGEPUSH_INBOUND_RETENTION_MS',
  webhookRetryPeriodMs: 'EDGEPUSH_WEBHOOK_RETRY_PERIOD_MS',
  webhookInitialBackoffMs: 'EDGEPUSH_WEBHOOK_INITIAL_BACKOFF_MS',
  webhookMaxBackoffMs: 'EDGEPUSH_WEBHOOK_MAX_BACKOFF_MS',
  webhookTimeoutMs: 'EDGEPUSH_WEBHOOK_TIMEOUT_MS',
  allowLocalHttpWebhooks: 'EDGEPUSH_ALLOW_LOCAL_HTTP_WEBHOOKS',
};

function client(url: string, token?: string): Cloud['api'] {
  return async (method, path, body) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
}

export type CloudKind = 'hub' | 'aws (emulated)';
export const CLOUD_KINDS: CloudKind[] = ['hub', 'aws (emulated)'];

export async function startCloud(kind: CloudKind, core: Partial<CoreConfig> = {}): Promise<Cloud> {
  if (kind === 'hub') {
    const dir = tempDir();
    const hub = await startHub({ port: 0, dataDir: dir.path, core });
    const token = await mintToken(await loadOrCreateKeys(dir.path));
    return {
      url: hub.url,
      wsUrl: hub.wsUrl,
      api: client(hub.url, token),
      stop: async () => {
        await hub.close();
        dir.remove();
      },
    };
  }
  const env = Object.fromEntries(Object.entries(core).map(([k, v]) => [ENV[k as keyof CoreConfig], String(v)]));
  const aws = await startEmulatedAws({ env });
  return {
    url: aws.httpUrl,
    wsUrl: aws.wsUrl,
    api: client(aws.httpUrl), // IAM mode: API Gateway authorised the route
    stop: async () => {
      await aws.stop();
      for (const name of Object.keys(env)) delete process.env[name];
    },
  };
}
