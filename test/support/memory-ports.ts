/**
 * The core's ports in memory, for fast tests of the domain core: no sockets, no emulators, no
 * timers of their own. The stores keep the port contracts (conditional updates, idempotent
 * creates, connection fencing); test/contract runs the same suite against them as against the
 * real adapters. Records are copied in and out, as a real store would serialise them.
 */
import { EventWatcher } from '../../hub/adapters/event-watcher';
import { InboundEventWatcher } from '../../hub/adapters/inbound-watcher';
import { DomainError } from '../../lambdas/core/domain-errors';
import type { InboundDelivery, InboundRecord, WebhookRecord } from '../../lambdas/core/inbound-records';
import type { CloudMessage } from '../../protocol/messages';
import type {
  AgentStore,
  ConnectionGateway,
  CreatePushResult,
  Log,
  PushListPage,
  PushListQuery,
  Ports,
  PostResult,
  PushQueue,
  PushStore,
  ClaimResult,
  ConnectionClaim,
  QueueFull,
  QueueLimits,
  InboundListPage,
  InboundListQuery,
  InboundPorts,
  InboundQueue,
  InboundQueueItem,
  InboundStore,
  PutInboundResult,
  WebhookResponse,
  WebhookSender,
  WebhookStore,
  TemplateStore,
} from '../../lambdas/core/ports';
import { toTemplateSummary, type FhirHookRecord, type TemplateRecord, type TemplateSummary } from '../../lambdas/core/mapping-records';
import { isAfter, newestFirst, takePage } from '../../lambdas/core/push-list';
import { isTerminal, toSummary, type AgentRecord, type PushRecord, type PushStatus, type QueueItem } from '../../lambdas/core/records';
import { FakeClock } from './fake-clock';

const copy = <T>(value: T): T => structuredClone(value);

/** Copies `base` with `patch` applied; a patch value of `undefined` removes that attribute. */
function applyPatch<T extends object>(base: T, patch: Partial<T>): T {
  const next = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as T;
}

export class MemoryPushStore implements PushStore {
  private readonly pushes = new Map<string, PushRecord>();
  /** `${agentId}\n${idempotencyKey}` -> pushId */
  private readonly keys = new Map<string, string>();

  /** Open pushes per `d\n<agent>\n<destination>`, `a\n<agent>`, and destinations with open pushes per `g\n<agent>`. */
  private readonly counts = new Map<string, number>();

  // Each method does its read-check-write before its first await, so two calls never interleave.
  create(push: PushRecord, limits?: QueueLimits): Promise<CreatePushResult> {
    const key = push.idempotencyKey === undefined ? undefined : `${push.agentId}\n${push.idempotencyKey}`;
    if (key !== undefined) {
      const earlier = this.pushes.get(this.keys.get(key) ?? '');
      if (earlier) return Promise.resolve({ push: copy(earlier), created: false });
    }
    const existing = this.pushes.get(push.pushId);
    if (existing) return Promise.resolve({ push: copy(existing), created: false });
    if (!isTerminal(push.status)) {
      const full = limits && this.fullFor(push.agentId, push.destination, limits);
      if (full) return Promise.resolve({ push: copy(push), created: false, full });
      this.count(push.agentId, push.destination, 1);
    }
    if (key !== undefined) this.keys.set(key, push.pushId);
    this.pushes.set(push.pushId, copy(push));
    return Promise.resolve({ push: copy(push), created: true });
  }

  private fullFor(agentId: string, destination: string, limits: QueueLimits): QueueFull | undefined {
    const here = this.counts.get(`d\n${agentId}\n${destination}`) ?? 0;
    if (here >= limits.perDestination) return 'destination';
    if ((this.counts.get(`a\n${agentId}`) ?? 0) >= limits.perAgent) return 'agent';
    if (here === 0 && limits.destinations !== undefined && (this.counts.get(`g\n${agentId}`) ?? 0) >= limits.destinations) {
      return 'destinations';
    }
    return undefined;
  }

  private count(agentId: string, destination: string, delta: 1 | -1): void {
    const bump = (k: string, by: number): void => {
      const next = Math.max(0, (this.counts.get(k) ?? 0) + by);
      if (next === 0) this.counts.delete(k);
      else this.counts.set(k, next);
    };
    const before = this.counts.get(`d\n${agentId}\n${destination}`) ?? 0;
    bump(`d\n${agentId}\n${destination}`, delta);
    bump(`a\n${agentId}`, delta);
    const after = Math.max(0, before + delta);
    if (before === 0 && after > 0) bump(`g\n${agentId}`, 1);
    if (before > 0 && after === 0) bump(`g\n${agentId}`, -1);
  }

  get(pushId: string): Promise<PushRecord | undefined> {
    const push = this.pushes.get(pushId);
    return Promise.resolve(push && copy(push));
  }

  update(
    pushId: string,
    from: readonly PushStatus[],
    patch: Partial<PushRecord>,
    expectAttempts?: number,
  ): Promise<PushRecord | undefined> {
    const current = this.pushes.get(pushId);
    if (!current || !from.includes(current.status)) return Promise.resolve(undefined);
    if (expectAttempts !== undefined && current.attempts !== expectAttempts) return Promise.resolve(undefined);
    const next = { ...applyPatch(current, copy(patch)), pushId };
    this.pushes.set(pushId, next);
    if (!isTerminal(current.status) && isTerminal(next.status)) this.count(current.agentId, current.destination, -1);
    return Promise.resolve(copy(next));
  }

  queueDepths(agentId: string, destinations: readonly string[]): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(destinations.map((d) => [d, this.counts.get(`d\n${agentId}\n${d}`) ?? 0])));
  }

  list(query: PushListQuery): Promise<PushListPage> {
    const ordered = [...this.pushes.values()].filter((p) => isAfter(p, query.after)).sort(newestFirst);
    return Promise.resolve(takePage(ordered.map(toSummary), query));
  }

  /** For assertions: the stored record without going through the port. */
  peek(pushId: string): PushRecord | undefined {
    const push = this.pushes.get(pushId);
    return push && copy(push);
  }
}

export class MemoryAgentStore implements AgentStore {
  private readonly agents = new Map<string, AgentRecord>();

  create(agent: AgentRecord): Promise<boolean> {
    if (this.agents.has(agent.agentId)) return Promise.resolve(false);
    this.agents.set(agent.agentId, copy(agent));
    return Promise.resolve(true);
  }

  get(agentId: string): Promise<AgentRecord | undefined> {
    const agent = this.agents.get(agentId);
    return Promise.resolve(agent && copy(agent));
  }

  /** The same rule as the lmdb and DynamoDB stores: the live connection wins (see the contract suite). */
  claimConnection(agentId: string, claim: ConnectionClaim): Promise<ClaimResult> {
    const current = this.agents.get(agentId);
    if (!current) return Promise.resolve({ outcome: 'unknown-agent' });
    const live = current.connectionId;
    const heard = Math.max(current.lastSeenAt ?? 0, current.connectedAt ?? 0);
    const sameRelay = claim.relayInstance !== undefined && claim.relayInstance === current.relayInstance;
    if (live !== undefined && heard >= claim.staleBefore && !sameRelay) {
      this.agents.set(agentId, { ...current, conflictAt: claim.at, conflictCount: (current.conflictCount ?? 0) + 1 });
      return Promise.resolve({ outcome: 'refused', liveConnectionId: live });
    }
    const next: AgentRecord = { ...current, connectionId: claim.connectionId, connectedAt: claim.at, lastSeenAt: claim.at };
    if (claim.relayInstance === undefined) delete next.relayInstance;
    else next.relayInstance = claim.relayInstance;
    this.agents.set(agentId, next);
    return Promise.resolve(live === undefined ? { outcome: 'claimed' } : { outcome: 'claimed', replaced: live });
  }

  /** For tests: make `connectionId` the agent's current connection, whatever was there. */
  setConnection(agentId: string, connectionId: string, at: number): Promise<void> {
    this.change(agentId, (a) => ({ ...a, connectionId, connectedAt: at, lastSeenAt: at }));
    return Promise.resolve();
  }

  clearConnection(agentId: string, connectionId: string): Promise<boolean> {
    return Promise.resolve(
      this.change(agentId, (a) => (a.connectionId === connectionId ? applyPatch(a, { connectionId: undefined }) : undefined)),
    );
  }

  touch(agentId: string, patch: Parameters<AgentStore['touch']>[1]): Promise<void> {
    this.change(agentId, (a) => applyPatch(a, copy(patch)));
    return Promise.resolve();
  }

  replaceSecretHash(agentId: string, expected: string, next: string): Promise<boolean> {
    return Promise.resolve(this.change(agentId, (a) => (a.secretHash === expected ? { ...a, secretHash: next } : undefined)));
  }

  list(): Promise<AgentRecord[]> {
    return Promise.resolve([...this.agents.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : 1)).map(copy));
  }

  setDisabled(agentId: string, disabled: boolean): Promise<AgentRecord | undefined> {
    this.change(agentId, (a) => applyPatch(a, { disabled: disabled || undefined }));
    return this.get(agentId);
  }

  delete(agentId: string): Promise<boolean> {
    return Promise.resolve(this.agents.delete(agentId));
  }

  private change(agentId: string, fn: (a: AgentRecord) => AgentRecord | undefined): boolean {
    const current = this.agents.get(agentId);
    const next = current && fn(current);
    if (!next) return false;
    this.agents.set(agentId, next);
    return true;
  }
}

/**
 * A FIFO queue per (agentId, destination) that a test drains by hand: receive() hands out the
 * head of each group not already in flight; release() of a terminal push frees its group.
 * Deduplicates by pushId against what is queued or in flight. Records wakes and releases.
 */
export class ManualQueue implements PushQueue {
  private readonly groups = new Map<string, QueueItem[]>();
  private readonly inFlight = new Map<string, string>(); // group -> pushId
  readonly released: PushRecord[] = [];
  readonly wakes: string[] = [];

  enqueue(item: QueueItem): Promise<void> {
    const pointer: QueueItem = { pushId: item.pushId, agentId: item.agentId, destination: item.destination };
    const group = this.group(pointer);
    const items = this.groups.get(group) ?? [];
    if (!items.some((i) => i.pushId === pointer.pushId)) items.push(pointer);
    this.groups.set(group, items);
    return Promise.resolve();
  }

  release(push: PushRecord): Promise<void> {
    this.released.push(copy(push));
    if (!isTerminal(push.status)) return Promise.resolve();
    for (const [group, pushId] of this.inFlight) {
      if (pushId !== push.pushId) continue;
      this.inFlight.delete(group);
      const items = this.groups.get(group) ?? [];
      this.groups.set(
        group,
        items.filter((i) => i.pushId !== pushId),
      );
    }
    return Promise.resolve();
  }

  wake(agentId: string): Promise<void> {
    this.wakes.push(agentId);
    return Promise.resolve();
  }

  /** Takes the head of one group that has nothing in flight; it stays in flight until released. */
  receive(): QueueItem | undefined {
    for (const [group, items] of this.groups) {
      if (this.inFlight.has(group) || items.length === 0) continue;
      this.inFlight.set(group, items[0].pushId);
      return { ...items[0] };
    }
    return undefined;
  }

  /** Items not yet finished (queued or in flight). */
  size(): number {
    let n = 0;
    for (const items of this.groups.values()) n += items.length;
    return n;
  }

  private group(item: QueueItem): string {
    return `${item.agentId}\n${item.destination}`;
  }
}

export type GatewayAnswer = PostResult | Error;

/** Records every post; answers 'ok' unless the test scripted another answer for that connection. */
export class RecordingGateway implements ConnectionGateway {
  readonly posts: { connectionId: string; message: CloudMessage }[] = [];
  private readonly answers = new Map<string, GatewayAnswer>();

  /** What posts to `connectionId` answer from now on: 'ok', 'gone', or an Error to throw. */
  answer(connectionId: string, answer: GatewayAnswer): void {
    this.answers.set(connectionId, answer);
  }

  readonly closed: string[] = [];

  close(connectionId: string): Promise<void> {
    this.closed.push(connectionId);
    return Promise.resolve();
  }

  post(connectionId: string, message: CloudMessage): Promise<PostResult> {
    this.posts.push({ connectionId, message: copy(message) });
    const answer = this.answers.get(connectionId) ?? 'ok';
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

/** The hub's in-process watcher, recording every push the core reports as terminal. */
export class RecordingWatcher extends EventWatcher {
  readonly notified: PushRecord[] = [];

  override notify(push: PushRecord): void {
    this.notified.push(copy(push));
    super.notify(push);
  }
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields?: Record<string, unknown>;
}

export class MemoryLog implements Log {
  readonly entries: LogEntry[] = [];
  info(msg: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', msg, fields });
  }
}

/** Inbound messages in memory, with the lmdb store's cursors (a sequence number as text). */
export class MemoryInboundStore implements InboundStore {
  private readonly messages = new Map<string, InboundRecord>();
  private readonly dedupe = new Map<string, { messageId: string; storedAt: number }>();
  private seq = 0;

  put(message: Omit<InboundRecord, 'cursor'>, dedupeWindowMs: number): Promise<PutInboundResult> {
    const key = `${message.agentId}\n${message.channel}\n${message.dedupeKey}`;
    const earlier = this.dedupe.get(key);
    const stored = earlier && this.messages.get(earlier.messageId);
    if (earlier && stored && earlier.storedAt > message.storedAt - dedupeWindowMs)
      return Promise.resolve({ message: copy(stored), created: false });
    const record: InboundRecord = { ...copy(message), cursor: String(++this.seq) };
    this.messages.set(record.messageId, record);
    this.dedupe.set(key, { messageId: record.messageId, storedAt: record.storedAt });
    return Promise.resolve({ message: copy(record), created: true });
  }

  get(messageId: string): Promise<InboundRecord | undefined> {
    const m = this.messages.get(messageId);
    return Promise.resolve(m && copy(m));
  }

  list(query: InboundListQuery): Promise<InboundListPage> {
    if (query.after !== undefined && !/^\d{1,15}$/.test(query.after)) {
      return Promise.reject(new DomainError('INVALID_QUERY', 'after is not a cursor this API returned'));
    }
    const after = Number(query.after ?? 0);
    const messages = [...this.messages.values()]
      .filter(
        (m) => m.agentId === query.agentId && (query.channel === undefined || m.channel === query.channel) && Number(m.cursor) > after,
      )
      .sort((a, b) => Number(a.cursor) - Number(b.cursor))
      .slice(0, query.limit)
      .map(copy);
    const next = messages.length > 0 ? messages[messages.length - 1].cursor : query.after;
    return Promise.resolve(next === undefined ? { messages } : { messages, next });
  }

  updateDelivery(messageId: string, patch: Partial<InboundDelivery>, expectAttempts: number): Promise<InboundRecord | undefined> {
    const current = this.messages.get(messageId);
    if (!current || current.delivery.attempts !== expectAttempts) return Promise.resolve(undefined);
    const next = { ...current, delivery: applyPatch(current.delivery, copy(patch)) };
    this.messages.set(messageId, next);
    return Promise.resolve(copy(next));
  }
}

export class MemoryWebhookStore implements WebhookStore {
  private readonly hooks = new Map<string, WebhookRecord>();
  put(webhook: WebhookRecord): Promise<void> {
    this.hooks.set(webhook.agentId, copy(webhook));
    return Promise.resolve();
  }
  get(agentId: string): Promise<WebhookRecord | undefined> {
    const hook = this.hooks.get(agentId);
    return Promise.resolve(hook && copy(hook));
  }
  delete(agentId: string): Promise<boolean> {
    return Promise.resolve(this.hooks.delete(agentId));
  }
}

/**
 * A FIFO queue per (agentId, channel) that a test drains by hand: receive() hands out the head of
 * each group with nothing in flight; done() removes it, so the group's next can go.
 */
export class ManualInboundQueue implements InboundQueue {
  private readonly groups = new Map<string, InboundQueueItem[]>();
  private readonly inFlight = new Set<string>();

  enqueue(item: InboundQueueItem): Promise<void> {
    const key = `${item.agentId}\n${item.channel}`;
    const items = this.groups.get(key) ?? [];
    if (!items.some((i) => i.messageId === item.messageId))
      items.push({ messageId: item.messageId, agentId: item.agentId, channel: item.channel });
    this.groups.set(key, items);
    return Promise.resolve();
  }

  receive(): InboundQueueItem | undefined {
    for (const [key, items] of this.groups) {
      if (this.inFlight.has(key) || items.length === 0) continue;
      this.inFlight.add(key);
      return { ...items[0] };
    }
    return undefined;
  }

  /** The delivery of `item` is over (done): its group's next may go. */
  done(item: InboundQueueItem): void {
    const key = `${item.agentId}\n${item.channel}`;
    this.inFlight.delete(key);
    this.groups.set(
      key,
      (this.groups.get(key) ?? []).filter((i) => i.messageId !== item.messageId),
    );
  }

  /** The delivery of `item` will be retried: it stays at the head. */
  retry(item: InboundQueueItem): void {
    this.inFlight.delete(`${item.agentId}\n${item.channel}`);
  }

  size(): number {
    let n = 0;
    for (const items of this.groups.values()) n += items.length;
    return n;
  }
}

/** Records every webhook POST; answers what the test scripted (default 200 with an empty body), or throws it. */
export class ScriptedWebhookSender implements WebhookSender {
  readonly posts: { url: string; headers: Record<string, string>; body: string }[] = [];
  private readonly answers: (WebhookResponse | Error)[] = [];

  /** Answers for the next posts, in order; after them, 200. */
  script(...answers: (WebhookResponse | Error)[]): void {
    this.answers.push(...answers);
  }

  post(url: string, headers: Record<string, string>, body: string): Promise<WebhookResponse> {
    this.posts.push({ url, headers: { ...headers }, body });
    const answer = this.answers.shift() ?? { status: 200, body: '' };
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

export interface MemoryInboundPorts extends InboundPorts {
  store: MemoryInboundStore;
  webhooks: MemoryWebhookStore;
  queue: ManualInboundQueue;
  sender: ScriptedWebhookSender;
  watcher: InboundEventWatcher;
}

export function memoryInboundPorts(): MemoryInboundPorts {
  return {
    store: new MemoryInboundStore(),
    webhooks: new MemoryWebhookStore(),
    queue: new ManualInboundQueue(),
    sender: new ScriptedWebhookSender(),
    watcher: new InboundEventWatcher(),
  };
}

export class MemoryTemplateStore implements TemplateStore {
  private readonly templates = new Map<string, TemplateRecord>();
  private readonly hooks = new Map<string, FhirHookRecord>();

  put(template: TemplateRecord): Promise<void> {
    this.templates.set(template.name, copy(template));
    return Promise.resolve();
  }
  get(name: string): Promise<TemplateRecord | undefined> {
    const t = this.templates.get(name);
    return Promise.resolve(t && copy(t));
  }
  list(): Promise<TemplateSummary[]> {
    return Promise.resolve([...this.templates.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(toTemplateSummary));
  }
  delete(name: string): Promise<boolean> {
    return Promise.resolve(this.templates.delete(name));
  }
  putHook(hook: FhirHookRecord): Promise<void> {
    this.hooks.set(JSON.stringify([hook.agentId, hook.destination]), copy(hook));
    return Promise.resolve();
  }
  getHook(agentId: string, destination: string): Promise<FhirHookRecord | undefined> {
    const h = this.hooks.get(JSON.stringify([agentId, destination]));
    return Promise.resolve(h && copy(h));
  }
}

export interface MemoryPorts extends Ports {
  pushes: MemoryPushStore;
  agents: MemoryAgentStore;
  queue: ManualQueue;
  gateway: RecordingGateway;
  watcher: RecordingWatcher;
  clock: FakeClock;
  log: MemoryLog;
  inbound: MemoryInboundPorts;
  templates: MemoryTemplateStore;
}

/** A full port set in memory, on a fake clock. */
export function memoryPorts(clock = new FakeClock()): MemoryPorts {
  const pushes = new MemoryPushStore();
  return {
    pushes,
    agents: new MemoryAgentStore(),
    queue: new ManualQueue(),
    gateway: new RecordingGateway(),
    watcher: new RecordingWatcher(pushes),
    clock,
    log: new MemoryLog(),
    inbound: memoryInboundPorts(),
    templates: new MemoryTemplateStore(),
    // A fixed key: agent secrets are HMAC'd with it exactly as with the hub's key file.
    secretKey: { get: () => Promise.resolve(Buffer.alloc(32, 7)) },
  };
}
