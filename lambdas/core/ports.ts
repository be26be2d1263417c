/**
 * The ports the domain core depends on. Two adapter sets implement them:
 * `adapters/aws` (DynamoDB, SQS FIFO, API Gateway Management API) and
 * `hub/adapters` (embedded lmdb store, in-process queue, direct WebSocket sends).
 * test/contract runs one suite against both.
 */
import type { ChannelInfo, CloudMessage, DeviceProtocols } from '../../protocol/messages';
import type { InboundDelivery, InboundRecord, WebhookRecord } from './inbound-records';
import type { FhirHookRecord, TemplateRecord, TemplateSummary } from './mapping-records';
import type { AgentRecord, PushRecord, PushStatus, PushSummary, QueueItem } from './records';

export interface CreatePushResult {
  push: PushRecord;
  /** false when the idempotency key was already used: `push` is the earlier one. */
  created: boolean;
  /** Set when `limits` refused the push: nothing was written (created is false, `push` is the candidate). */
  full?: QueueFull;
}

/**
 * Bounds on open (queued or sent) pushes, checked atomically with the create. A store counts
 * open pushes per (agent, destination) and per agent whether or not limits are given, and
 * stops counting a push when it turns terminal.
 */
export interface QueueLimits {
  perDestination: number;
  perAgent: number;
  /** Destinations with open pushes, per agent; undefined: not limited (the relay named its devices). */
  destinations?: number;
}

export type QueueFull = 'destination' | 'agent' | 'destinations';

export interface PushStore {
  /**
   * Stores a new push. When `push.idempotencyKey` is set and that key was already used for
   * the same agent, nothing is written and the earlier push is returned with created=false
   * (the caller compares body hashes). Must be safe when two creates race on one key.
   * A new open push beyond `limits` is refused: `full` says which bound.
   */
  create(push: PushRecord, limits?: QueueLimits): Promise<CreatePushResult>;
  get(pushId: string): Promise<PushRecord | undefined>;
  /**
   * Conditional update: applies `patch` only while the push's status is one of `from`
   * (and, when given, its attempts equal `expectAttempts`). Returns the updated record,
   * or undefined when the condition failed or the push does not exist.
   * A patch value of `undefined` removes that attribute.
   */
  update(pushId: string, from: readonly PushStatus[], patch: Partial<PushRecord>, expectAttempts?: number): Promise<PushRecord | undefined>;
  /**
   * Pushes newest first (createdAt, then pushId, both descending), without bodies, matching
   * every filter given, strictly after `after` in that order. `next` is set when more may
   * follow (a page may come back short, even empty, with `next`: keep reading until it is absent).
   */
  list(query: PushListQuery): Promise<PushListPage>;
  /**
   * Open (queued or sent) pushes per destination of one agent, from the counters the queue limits
   * keep: each name of `destinations` maps to its count (0 when it has none).
   */
  queueDepths(agentId: string, destinations: readonly string[]): Promise<Record<string, number>>;
}

/** A position in the newest-first order: the last push of the previous page. */
export interface PushListPosition {
  createdAt: number;
  pushId: string;
}

export interface PushListQuery {
  agentId?: string;
  destination?: string;
  status?: PushStatus;
  limit: number;
  after?: PushListPosition;
}

export interface PushListPage {
  pushes: PushSummary[];
  next?: PushListPosition;
}

export interface AgentStore {
  /** false when the agent id is taken. */
  create(agent: AgentRecord): Promise<boolean>;
  get(agentId: string): Promise<AgentRecord | undefined>;
  /**
   * One relay per agent, decided atomically (a conditional write): makes `connectionId` the
   * agent's connection only when it has none, when the current one was last heard of before
   * `staleBefore` (max of lastSeenAt and connectedAt), or when it comes from the same
   * `relayInstance`. Sets connectedAt and lastSeenAt to `at`. Otherwise changes only
   * conflictAt (= at) and conflictCount (+1), and says which connection is live.
   */
  claimConnection(agentId: string, claim: ConnectionClaim): Promise<ClaimResult>;
  /** Clears the connection only if it is still `connectionId`; true when it did. */
  clearConnection(agentId: string, connectionId: string): Promise<boolean>;
  /** Replaces the stored secret hash only while it is still `expected`; true when it did. */
  replaceSecretHash(agentId: string, expected: string, next: string): Promise<boolean>;
  /** hello / heartbeat bookkeeping; a no-op for an unknown agent. */
  touch(
    agentId: string,
    patch: { lastSeenAt: number; version?: string; devices?: string[]; channels?: ChannelInfo[]; deviceProtocols?: DeviceProtocols },
  ): Promise<void>;
  /** Every agent, by id. */
  list(): Promise<AgentRecord[]>;
  /** Sets or clears `disabled`; the updated agent, or undefined when it does not exist. */
  setDisabled(agentId: string, disabled: boolean): Promise<AgentRecord | undefined>;
  /** false when there was no such agent. */
  delete(agentId: string): Promise<boolean>;
}

export interface ConnectionClaim {
  connectionId: string;
  at: number;
  staleBefore: number;
  relayInstance?: string;
}

export type ClaimResult =
  /** `replaced`: the earlier connection it took over (silent, or the same relay's), to be closed. */
  { outcome: 'claimed'; replaced?: string } | { outcome: 'refused'; liveConnectionId: string } | { outcome: 'unknown-agent' };

export interface PushQueue {
  /** FIFO per (agentId, destination); deduplicated by pushId. */
  enqueue(item: QueueItem): Promise<void>;
  /**
   * The push reached a terminal state: let the next push of its group go now rather than
   * when the current delivery's retry timer fires. Best effort; the timer is the fallback.
   */
  release(push: PushRecord): Promise<void>;
  /**
   * Retry the agent's waiting pushes soon. Best effort. `reason`: its relay connected, said
   * hello (it is ready: on AWS only this wakes, as postToConnection fails until $connect has
   * returned), or reported a retryable failure.
   */
  wake(agentId: string, reason: WakeReason): Promise<void>;
}

export type WakeReason = 'connect' | 'hello' | 'retry';

export type CloseReason = 'replaced' | 'revoked';

export type PostResult = 'ok' | 'gone';

export interface ConnectionGateway {
  /** Sends one message down a relay connection; 'gone' when that connection no longer exists. */
  post(connectionId: string, message: CloudMessage): Promise<PostResult>;
  /**
   * Closes a relay connection now; a connection already gone is not an error. `why`: replaced by
   * the agent's newer connection, or revoked (agent disabled, secret rotated, agent deleted).
   */
  close(connectionId: string, why?: CloseReason): Promise<void>;
}

export interface PushWatcher {
  /** Resolves with the push once terminal, or undefined after timeoutMs. */
  waitForTerminal(pushId: string, timeoutMs: number): Promise<PushRecord | undefined>;
  /** Called by the core whenever a push becomes terminal (local adapters wake waiters; AWS polls). */
  notify(push: PushRecord): void;
}

/** The server-side key agent secrets are HMAC'd with (AWS: a Secrets Manager secret; hub: a key file). */
export interface SecretKey {
  get(): Promise<Buffer>;
}

// ---- inbound (device -> relay -> cloud -> application) ----

export interface PutInboundResult {
  message: InboundRecord;
  /** false: (agentId, channel, dedupeKey) was stored within the window; `message` is the earlier one. */
  created: boolean;
}

export interface InboundStore {
  /**
   * Stores a message durably, unless one with the same (agentId, channel, dedupeKey) was stored
   * less than `dedupeWindowMs` ago: then nothing is written and the earlier one is returned.
   * Safe when two puts race on one key. The store assigns `cursor`.
   */
  put(message: Omit<InboundRecord, 'cursor'>, dedupeWindowMs: number): Promise<PutInboundResult>;
  get(messageId: string): Promise<InboundRecord | undefined>;
  /**
   * An agent's messages (one channel's, when given) oldest first, strictly after the cursor
   * `after`, at most `limit`. A reader following `next` sees every message exactly once, with no
   * gaps, even while messages are being stored: a store that cannot assign cursors in commit
   * order holds recent ones back until they are settled. `next` is the cursor to continue from
   * (the last message returned, or `after` when none). Messages past expiresAt may still be
   * listed until the store drops them (the core filters them out). An `after` this store could
   * not have made throws DomainError INVALID_QUERY (400), never a store error.
   */
  list(query: InboundListQuery): Promise<InboundListPage>;
  /**
   * Conditional update of the delivery state: applies only while delivery.attempts equals
   * `expectAttempts`. The updated record, or undefined.
   */
  updateDelivery(messageId: string, patch: Partial<InboundDelivery>, expectAttempts: number): Promise<InboundRecord | undefined>;
}

export interface InboundListQuery {
  agentId: string;
  channel?: string;
  /** Opaque cursor from an earlier page or message; absent: from the oldest kept. */
  after?: string;
  limit: number;
}

export interface InboundListPage {
  messages: InboundRecord[];
  next?: string;
}

/** One webhook per agent. The secret is sealed by the core (it must sign, so it is not hashed). */
export interface WebhookStore {
  put(webhook: WebhookRecord): Promise<void>;
  get(agentId: string): Promise<WebhookRecord | undefined>;
  /** false when there was none. */
  delete(agentId: string): Promise<boolean>;
}

/** What the inbound queue carries: a pointer, never the body. */
export interface InboundQueueItem {
  messageId: string;
  agentId: string;
  channel: string;
}

export interface InboundQueue {
  /**
   * FIFO per (agentId, channel), deduplicated by messageId: the next message of a channel is not
   * handed to delivery until the one before it is done (delivered, failed for good, or skipped).
   * AWS: SQS FIFO, MessageGroupId agentId+channel; hub: in-process, rebuilt from the store.
   */
  enqueue(item: InboundQueueItem): Promise<void>;
}

/**
 * What one delivery attempt (EdgePushCore.deliverInbound) tells the queue: `done` (delivered,
 * failed for good, or nothing to do): remove the item, the channel's next may go; `retry`: keep
 * it at the head of its group and hand it over again after `delayMs`.
 */
export type InboundDeliveryOutcome = { outcome: 'done' } | { outcome: 'retry'; delayMs: number };

/** The HTTP POST of a webhook delivery. Both adapter sets use fetch; tests use a real server. */
export interface WebhookSender {
  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<WebhookResponse>;
}

export interface WebhookResponse {
  status: number;
  contentType?: string;
  /** At most the first 64 KB of the answer (an HL7 ACK for `app` channels). */
  body: string;
}

/** Long polls on GET /agents/{id}/messages: wakes waiters when an agent gets a message. */
export interface InboundWatcher {
  /**
   * Resolves when a message of the agent is stored, or after timeoutMs, or once `signal` aborts
   * (AWS: polls the store). The core calls it before it reads the store, so a message stored
   * between the read and the wait is not missed: an implementation must be listening when the
   * call returns.
   */
  waitForMessage(agentId: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  notify(agentId: string): void;
}

/** Optional on AWS: an EventBridge event per stored message. */
export interface InboundEvents {
  publish(message: InboundRecord): Promise<void>;
}

/** The ports of the inbound direction, together. */
export interface InboundPorts {
  store: InboundStore;
  webhooks: WebhookStore;
  queue: InboundQueue;
  sender: WebhookSender;
  watcher: InboundWatcher;
  events?: InboundEvents;
}

// ---- mapping (templates and FHIR hooks) ----

/** Templates by name, and the FHIR hooks' settings. Small, admin-written, rarely changed. */
export interface TemplateStore {
  /** Creates or replaces the template of that name. */
  put(template: TemplateRecord): Promise<void>;
  get(name: string): Promise<TemplateRecord | undefined>;
  /** Every template, by name, without documents. */
  list(): Promise<TemplateSummary[]>;
  /** false when there was none. */
  delete(name: string): Promise<boolean>;
  /** Creates or replaces the hook of (agentId, destination). */
  putHook(hook: FhirHookRecord): Promise<void>;
  getHook(agentId: string, destination: string): Promise<FhirHookRecord | undefined>;
}

/** Reads resources from a FHIR server, for id-only subscription notifications. Both sets use fetch. */
export interface FhirClient {
  /** GET {baseUrl}/{type}/{id}; rejects (with a message naming the status or network error) unless 2xx JSON. */
  read(baseUrl: string, token: string | undefined, type: string, id: string): Promise<unknown>;
}

export interface Clock {
  now(): number;
}

/** Structured log sink. No message body is ever passed to it. */
export interface Log {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Ports {
  pushes: PushStore;
  agents: AgentStore;
  queue: PushQueue;
  gateway: ConnectionGateway;
  watcher: PushWatcher;
  clock: Clock;
  secretKey: SecretKey;
  /** The inbound direction: device -> relay -> cloud -> the application. */
  inbound: InboundPorts;
  /**
   * Templates and FHIR hooks. Optional so port sets built for other tests need no change; the
   * hub, the AWS set and memoryPorts() wire it; without it the mapping routes answer
   * STORE_UNAVAILABLE.
   */
  templates?: TemplateStore;
  /** Optional like `templates`: without it an id-only FHIR notification answers HOOK_NOT_CONFIGURED. */
  fhir?: FhirClient;
  /** Optional: the core logs nothing when absent. */
  log?: Log;
}
