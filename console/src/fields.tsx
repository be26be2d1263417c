/** Small renderers shared by the views, tolerant of fields a newer server adds. */
import { queueDepths, show } from './shapes';
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

export function Status({ status }: { status: unknown }) {
  const s = show(status);
  return <span class={`status status-${s.replace(/[^a-z]/g, '')}`}>{s}</span>;
}
