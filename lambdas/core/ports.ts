/**
 * The ports the domain core depends on. Two adapter sets implement them:
 * `adapters/aws` (DynamoDB, SQS FIFO, API Gateway Management API) and
 * `hub/adapters` (embedded lmdb store, in-process queue, direct WebSocket sends).
 * test/contract runs one suite against both.
 */
import type { CloudMessage } from '../../protocol/messages';
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
  touch(agentId: string, patch: { lastSeenAt: number; version?: string; devices?: string[] }): Promise<void>;
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
  /** Optional: the core logs nothing when absent. */
  log?: Log;
}
