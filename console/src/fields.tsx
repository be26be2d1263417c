/** Small renderers shared by the views, tolerant of fields a newer server adds. */
import type { Json } from './types';

/** A timestamp in the reader's local time; the exact ISO value on hover and for machines. */
export function Time({ iso }: { iso: unknown }) {
  if (typeof iso !== 'string' || iso === '') return <span class="muted">–</span>;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {date.toLocaleString()}
    </time>
  );
}

/** A value of unknown shape, as text a person can read. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

/** HL7 segments end in CR: show one per line. */
export function MessageText({ text, label }: { text: string; label: string }) {
  return (
    <pre class="message" aria-label={label} tabIndex={0}>
      {text.replace(/\r\n?/g, '\n')}
    </pre>
  );
}

/** The fields of `item` the view did not already show, so nothing the server says is hidden. */
export function OtherFields({ item, known }: { item: Json; known: readonly string[] }) {
  const rest = Object.entries(item).filter(([name, value]) => !known.includes(name) && value !== undefined && value !== null);
  if (rest.length === 0) return null;
  return (
    <dl class="fields">
      {rest.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{typeof value === 'object' ? <pre>{show(value)}</pre> : show(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export interface QueueDepth {
  destination: string;
  depth: number;
}

const DEPTH_KEYS = ['depth', 'queued', 'queueDepth', 'count'];

/**
 * Queue depth per destination, in whichever shape the server gives it: a map
 * `{lab: 3}`, a list `[{destination, depth}]`, or a count on each device. undefined when the
 * server gives none (an older server), which the view shows as "–", not as 0.
 */
export function queueDepths(agent: Json): QueueDepth[] | undefined {
  for (const key of ['queueDepths', 'queues', 'queueDepth', 'queued']) {
    const value = agent[key];
    if (Array.isArray(value)) return value.map(depthOf).filter((d): d is QueueDepth => d !== undefined);
    if (value && typeof value === 'object') {
      return Object.entries(value as Json)
        .filter(([, n]) => typeof n === 'number')
        .map(([destination, n]) => ({ destination, depth: n as number }));
    }
  }
  if (Array.isArray(agent.devices)) {
    const perDevice = (agent.devices as Json[]).map((d) => depthOf({ destination: d.name, ...d })).filter((d) => d !== undefined);
    if (perDevice.length > 0) return perDevice;
  }
  return undefined;
}

function depthOf(item: unknown): QueueDepth | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const o = item as Json;
  const destination = typeof o.destination === 'string' ? o.destination : typeof o.name === 'string' ? o.name : undefined;
  const key = DEPTH_KEYS.find((k) => typeof o[k] === 'number');
  return destination !== undefined && key ? { destination, depth: o[key] as number } : undefined;
}

export function QueueDepths({ agent }: { agent: Json }) {
  const depths = queueDepths(agent);
  if (!depths) return <span class="muted">–</span>;
  if (depths.length === 0) return <span>none</span>;
  return <span>{depths.map((d) => `${d.destination}: ${d.depth}`).join(', ')}</span>;
}

/** `conflict: {at, count}` on GET /agents/{id}: a second relay was refused. */
export function Conflict({ value }: { value: unknown }) {
  if (value === undefined || value === null || value === false) return <span class="muted">none</span>;
  if (typeof value !== 'object') return <strong class="warn">{show(value)}</strong>;
  const c = value as Json;
  const count = typeof c.count === 'number' ? c.count : undefined;
  return (
    <strong class="warn">
      {count === undefined ? 'a second relay was refused' : `${count} second relay connection${count === 1 ? '' : 's'} refused`}
      {typeof c.at === 'string' ? (
        <>
          , last <Time iso={c.at} />
        </>
      ) : null}
    </strong>
  );
}

/** Why a queued push waits (`waitReason`, a string or `{message|reason|code}`), when the server says. */
export function waitReason(push: Json): string | undefined {
  const value = push.waitReason ?? push.waiting;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const o = value as Json;
    for (const key of ['message', 'reason', 'detail', 'code']) {
      const text = o[key];
      if (typeof text === 'string') return text;
    }
    return show(value);
  }
  return undefined;
}

export function Status({ status }: { status: unknown }) {
  const s = show(status);
  return <span class={`status status-${s.replace(/[^a-z]/g, '')}`}>{s}</span>;
}
