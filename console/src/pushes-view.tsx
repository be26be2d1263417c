/** Pushes: filtered by agent, destination and status, newest first, paged by cursor. */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from './api';
import { Status, Time } from './fields';
import { waitReason } from './shapes';
import { PushDetail } from './push-detail';
import { PUSH_STATUSES, type Push } from './types';
import { useLoad } from './use-load';

export interface PushFilter {
  agentId: string;
  destination: string;
  status: string;
}

const PAGE_SIZE = 25;

interface Props {
  api: Api;
  refresh: number;
  filter: PushFilter;
  agentIds: string[];
  onFilter: (filter: PushFilter) => void;
}

export function PushesView({ api, refresh, filter, agentIds, onFilter }: Props) {
  // The cursors of the pages before this one, so "Newer" can go back; [] on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const [draft, setDraft] = useState(filter);
  const [changes, setChanges] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  // A layout effect: the form shows the new filter in the same task as the click that set it,
  // not a frame later.
  useLayoutEffect(() => {
    // A filter set from an agent's detail ("Show its pushes") rather than this form: bring the reader here.
    const fromForm = filter.agentId === draft.agentId && filter.destination === draft.destination && filter.status === draft.status;
    setDraft(filter);
    setCursor(undefined);
    setCursors([]);
    if (!firstRender.current && !fromForm) heading.current?.focus();
    firstRender.current = false;
  }, [filter]);

  const page = useLoad(
    () =>
      api.get<{ pushes?: Push[]; next?: string }>('pushes', {
        agentId: filter.agentId.trim(),
        destination: filter.destination.trim(),
        status: filter.status,
        limit: PAGE_SIZE,
        cursor,
      }),
    [api, filter, cursor, refresh, changes],
  );
  const pushes = page.data?.pushes ?? [];

  function apply(e: Event) {
    e.preventDefault();
    onFilter({ ...draft });
  }

  return (
    <section aria-labelledby="pushes-title">
      <h2 id="pushes-title" tabIndex={-1} ref={heading}>
        Pushes
      </h2>
      <form class="filters" onSubmit={apply} aria-label="Filter pushes">
        <div class="field">
          <label for="push-agent">Agent</label>
          <input
            id="push-agent"
            name="agentId"
            list="agent-ids"
            value={draft.agentId}
            onInput={(e) => setDraft({ ...draft, agentId: e.currentTarget.value })}
            autoComplete="off"
          />
        </div>
        <datalist id="agent-ids">
          {agentIds.map((id) => (
            <option key={id} value={id} />
          ))}
        </datalist>
        <div class="field">
          <label for="push-destination">Destination</label>
          <input
            id="push-destination"
            name="destination"
            value={draft.destination}
            onInput={(e) => setDraft({ ...draft, destination: e.currentTarget.value })}
            autoComplete="off"
          />
        </div>
        <div class="field">
          <label for="push-status">Status</label>
          <select
            id="push-status"
            name="status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}
          >
            <option value="">any</option>
            {PUSH_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => onFilter({ agentId: '', destination: '', status: '' })}>
          Clear
        </button>
      </form>
      {page.error ? <p class="error">Pushes could not be loaded: {describeError(page.error)}</p> : null}
      {page.loading && !page.data ? <p aria-live="polite">Loading pushes…</p> : null}
      {page.data && pushes.length === 0 ? <p>No pushes match.</p> : null}
      {pushes.length > 0 ? (
        <table>
          <caption class="visually-hidden">Pushes, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Push</th>
              <th scope="col">Created</th>
              <th scope="col">Agent</th>
              <th scope="col">Destination</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">ACK / reason</th>
            </tr>
          </thead>
          <tbody>
            {pushes.map((p) => (
              <tr key={p.pushId} class={p.pushId === selected ? 'selected' : undefined} data-push-id={p.pushId}>
                <th scope="row">
                  <button type="button" class="link mono" aria-pressed={p.pushId === selected} onClick={() => setSelected(p.pushId)}>
                    {p.pushId}
                  </button>
                </th>
                <td>
                  <Time iso={p.createdAt} />
                </td>
                <td>{p.agentId}</td>
                <td>{p.destination}</td>
                <td>
                  <Status status={p.status} />
                </td>
                <td>{p.attempts}</td>
                <td>{p.ackCode ?? p.error ?? waitReason(p) ?? (p.resendOf ? `resend of ${p.resendOf}` : '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <nav class="pager" aria-label="Push pages">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => {
            const before = cursors.slice(0, -1);
            setCursor(cursors[cursors.length - 1] || undefined);
            setCursors(before);
          }}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={!page.data?.next}
          onClick={() => {
            setCursors([...cursors, cursor ?? '']);
            setCursor(page.data?.next);
          }}
        >
          Older
        </button>
      </nav>
      {selected ? (
        <PushDetail
          key={selected}
          api={api}
          pushId={selected}
          refresh={refresh}
          onOpen={setSelected}
          onChanged={() => setChanges((n) => n + 1)}
          onClose={() => setSelected(undefined)}
        />
      ) : null}
    </section>
  );
}
