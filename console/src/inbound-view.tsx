/**
 * Inbound messages of one agent (GET /agents/{id}/messages, GET /messages/{id}). A server
 * without inbound answers those routes 404 without an item code: say so plainly, once.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, isMissingRoute, type Api } from './api';
import { MessageText, OtherFields, Time } from './fields';
import { show } from './shapes';
import type { InboundMessage } from './types';
import { useLoad } from './use-load';

const PAGE_SIZE = 25;
const SHOWN = ['messageId', 'agentId', 'channel', 'receivedAt', 'contentType', 'messageType', 'controlId', 'body'];

interface Props {
  api: Api;
  refresh: number;
  agentId: string;
  agentIds: string[];
  onAgent: (agentId: string) => void;
}

export function InboundView({ api, refresh, agentId, agentIds, onAgent }: Props) {
  const [draft, setDraft] = useState(agentId);
  const [cursors, setCursors] = useState<string[]>([]);
  const [after, setAfter] = useState<string | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    setDraft(agentId);
    setAfter(undefined);
    setCursors([]);
    setSelected(undefined);
    // Chosen from an agent's detail further up: bring the reader (and screen reader) here.
    if (agentId) heading.current?.focus();
  }, [agentId]);

  const page = useLoad(
    agentId
      ? () =>
          api.get<{ messages?: InboundMessage[]; next?: string }>(`agents/${encodeURIComponent(agentId)}/messages`, {
            limit: PAGE_SIZE,
            after,
          })
      : undefined,
    [api, agentId, after, refresh],
  );
  const messages = page.data?.messages ?? [];

  return (
    <section aria-labelledby="inbound-title">
      <h2 id="inbound-title" tabIndex={-1} ref={heading}>
        Inbound messages
      </h2>
      <form
        class="filters"
        aria-label="Choose an agent"
        onSubmit={(e) => {
          e.preventDefault();
          onAgent(draft.trim());
        }}
      >
        <div class="field">
          <label for="inbound-agent">Agent</label>
          <input
            id="inbound-agent"
            name="inboundAgentId"
            list="agent-ids"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            autoComplete="off"
          />
        </div>
        <button type="submit">Show messages</button>
        {agentIds.length === 0 ? null : <span class="muted">Agents: {agentIds.join(', ')}</span>}
      </form>
      {!agentId ? <p class="muted">Choose an agent to see the messages its devices sent.</p> : null}
      {page.error && isMissingRoute(page.error) ? (
        <p class="notice" role="status">
          Inbound messages are not available on this server (it has no GET /agents/&#123;id&#125;/messages route yet).
        </p>
      ) : page.error ? (
        <p class="error">Messages could not be loaded: {describeError(page.error)}</p>
      ) : null}
      {page.loading && !page.data ? <p aria-live="polite">Loading messages…</p> : null}
      {page.data && messages.length === 0 ? <p>No messages from {agentId}.</p> : null}
      {messages.length > 0 ? (
        <table>
          <caption class="visually-hidden">Inbound messages of {agentId}, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Received</th>
              <th scope="col">Channel</th>
              <th scope="col">Type</th>
              <th scope="col">Control id</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {messages.map((m) => (
              <tr key={m.messageId} class={m.messageId === selected ? 'selected' : undefined}>
                <th scope="row">
                  <button type="button" class="link mono" aria-pressed={m.messageId === selected} onClick={() => setSelected(m.messageId)}>
                    {m.messageId}
                  </button>
                </th>
                <td>
                  <Time iso={m.receivedAt} />
                </td>
                <td>{m.channel}</td>
                <td>{m.messageType ?? m.contentType}</td>
                <td>{m.controlId}</td>
                <td>{show(m.status ?? m.delivery ?? '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {agentId ? (
        <nav class="pager" aria-label="Message pages">
          <button
            type="button"
            disabled={cursors.length === 0}
            onClick={() => {
              setAfter(cursors[cursors.length - 1] || undefined);
              setCursors(cursors.slice(0, -1));
            }}
          >
            Previous
          </button>
          <button
            type="button"
            disabled={!page.data?.next}
            onClick={() => {
              setCursors([...cursors, after ?? '']);
              setAfter(page.data?.next);
            }}
          >
            Next
          </button>
        </nav>
      ) : null}
      {selected ? <MessageDetail key={selected} api={api} messageId={selected} onClose={() => setSelected(undefined)} /> : null}
    </section>
  );
}

function MessageDetail({ api, messageId, onClose }: { api: Api; messageId: string; onClose: () => void }) {
  const message = useLoad(() => api.get<InboundMessage>(`messages/${encodeURIComponent(messageId)}`), [api, messageId]);
  const m = message.data;
  return (
    <article class="detail" aria-labelledby="message-detail-title">
      <h3 id="message-detail-title">
        Message <span class="mono">{messageId}</span>
      </h3>
      {message.error ? (
        <p class="error">
          {isMissingRoute(message.error) ? 'GET /messages/{id} is not available on this server.' : describeError(message.error)}
        </p>
      ) : null}
      {m ? (
        <>
          <dl class="fields">
            <div>
              <dt>Received</dt>
              <dd>
                <Time iso={m.receivedAt} />
              </dd>
            </div>
            <div>
              <dt>Agent / channel</dt>
              <dd>
                {m.agentId} / {m.channel}
              </dd>
            </div>
            <div>
              <dt>Type</dt>
              <dd>{[m.messageType, m.contentType].filter(Boolean).join(', ')}</dd>
            </div>
            <div>
              <dt>Control id</dt>
              <dd>{m.controlId ?? '–'}</dd>
            </div>
          </dl>
          <OtherFields item={m} known={SHOWN} />
          <h4>Message</h4>
          {typeof m.body === 'string' ? (
            <MessageText text={m.body} label="Message body" />
          ) : (
            <p class="muted">The server did not send the body to this token.</p>
          )}
        </>
      ) : null}
      <div class="actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </article>
  );
}
