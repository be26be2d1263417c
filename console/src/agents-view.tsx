/** Agents: status, version, last seen, devices, queue depths and conflicts; one in detail. */
import { useState } from 'preact/hooks';
import { describeError, type Api } from './api';
import { Conflict, OtherFields, QueueDepths, Status, Time } from './fields';
import { DEPTH_FIELDS } from './shapes';
import type { Agent } from './types';
import { useLoad } from './use-load';

const SHOWN = ['agentId', 'status', 'version', 'connectedAt', 'lastSeenAt', 'devices', 'channels', 'conflict'];

interface Props {
  api: Api;
  refresh: number;
  onShowPushes: (agentId: string) => void;
  onShowInbound: (agentId: string) => void;
  onAgents: (agents: Agent[]) => void;
}

export function AgentsView({ api, refresh, onShowPushes, onShowInbound, onAgents }: Props) {
  const [selected, setSelected] = useState<string | undefined>();
  const list = useLoad(async () => {
    const res = await api.get<{ agents?: Agent[] }>('agents');
    const agents = res?.agents ?? [];
    onAgents(agents);
    return agents;
  }, [api, refresh]);

  return (
    <section aria-labelledby="agents-title">
      <h2 id="agents-title">Agents</h2>
      {list.error ? <p class="error">Agents could not be loaded: {describeError(list.error)}</p> : null}
      {list.loading && !list.data ? <p aria-live="polite">Loading agents…</p> : null}
      {list.data && list.data.length === 0 ? <p>No agents yet. Create one with `npx edgepush agent create &lt;id&gt;`.</p> : null}
      {list.data && list.data.length > 0 ? (
        <table>
          <caption class="visually-hidden">Agents and their relay connections</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Version</th>
              <th scope="col">Last seen</th>
              <th scope="col">Devices</th>
              <th scope="col">Queued</th>
              <th scope="col">Conflict</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((a) => (
              <tr key={a.agentId} class={a.agentId === selected ? 'selected' : undefined}>
                <th scope="row">
                  <button type="button" class="link" aria-pressed={a.agentId === selected} onClick={() => setSelected(a.agentId)}>
                    {a.agentId}
                  </button>
                </th>
                <td>
                  <Status status={a.status} />
                </td>
                <td>{a.version ?? <span class="muted">–</span>}</td>
                <td>
                  <Time iso={a.lastSeenAt} />
                </td>
                <td>
                  {(a.devices ?? []).map((d) => (d.kind ? `${d.name} (${d.kind})` : d.name)).join(', ') || <span class="muted">none</span>}
                </td>
                <td>
                  <QueueDepths agent={a} />
                </td>
                <td>
                  <Conflict value={a.conflict} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {selected ? (
        <AgentDetail
          key={selected}
          api={api}
          agentId={selected}
          refresh={refresh}
          onChanged={list.reload}
          onShowPushes={onShowPushes}
          onShowInbound={onShowInbound}
          onClose={() => setSelected(undefined)}
        />
      ) : null}
    </section>
  );
}

interface DetailProps {
  api: Api;
  agentId: string;
  refresh: number;
  onChanged: () => void;
  onShowPushes: (agentId: string) => void;
  onShowInbound: (agentId: string) => void;
  onClose: () => void;
}

/** GET /agents/{id}: the richer view (device kinds, queue depth per destination, conflicts). */
function AgentDetail({ api, agentId, refresh, onChanged, onShowPushes, onShowInbound, onClose }: DetailProps) {
  const [note, setNote] = useState('');
  const [version, setVersion] = useState(0);
  // Disabling refuses the relay at once: ask once more rather than act on a stray click.
  const [confirming, setConfirming] = useState(false);
  const agent = useLoad(() => api.get<Agent>(`agents/${encodeURIComponent(agentId)}`), [api, agentId, refresh, version]);
  const a = agent.data;

  async function setEnabled(enabled: boolean) {
    setConfirming(false);
    setNote(enabled ? 'Enabling…' : 'Disabling…');
    try {
      await api.send('PATCH', `agents/${encodeURIComponent(agentId)}`, { enabled });
      setNote(enabled ? `Agent ${agentId} enabled.` : `Agent ${agentId} disabled: its relay is refused and new pushes get 409.`);
      setVersion((v) => v + 1);
      onChanged();
    } catch (err) {
      setNote(`Failed: ${describeError(err)}`);
    }
  }

  return (
    <article class="detail" aria-labelledby="agent-detail-title">
      <h3 id="agent-detail-title">Agent {agentId}</h3>
      {agent.error ? <p class="error">{describeError(agent.error)}</p> : null}
      {a ? (
        <>
          <dl class="fields">
            <div>
              <dt>Status</dt>
              <dd>
                <Status status={a.status} />
              </dd>
            </div>
            <div>
              <dt>Version</dt>
              <dd>{a.version ?? '–'}</dd>
            </div>
            <div>
              <dt>Connected at</dt>
              <dd>
                <Time iso={a.connectedAt} />
              </dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>
                <Time iso={a.lastSeenAt} />
              </dd>
            </div>
            <div>
              <dt>Devices</dt>
              <dd>{(a.devices ?? []).map((d) => (d.kind ? `${d.name} (${d.kind})` : d.name)).join(', ') || 'none'}</dd>
            </div>
            {a.channels ? (
              <div>
                <dt>Channels</dt>
                <dd>{a.channels.map((c) => (c.kind ? `${c.name} (${c.kind})` : c.name)).join(', ') || 'none'}</dd>
              </div>
            ) : null}
            <div>
              <dt>Queued per destination</dt>
              <dd>
                <QueueDepths agent={a} />
              </dd>
            </div>
            <div>
              <dt>Conflict</dt>
              <dd>
                <Conflict value={a.conflict} />
              </dd>
            </div>
          </dl>
          <OtherFields item={a} known={[...SHOWN, ...DEPTH_FIELDS]} />
          <div class="actions">
            <button type="button" onClick={() => onShowPushes(agentId)}>
              Show its pushes
            </button>
            <button type="button" onClick={() => onShowInbound(agentId)}>
              Show its inbound messages
            </button>
            {a.status === 'disabled' ? (
              <button type="button" onClick={() => void setEnabled(true)}>
                Enable agent
              </button>
            ) : confirming ? (
              <>
                <button type="button" class="danger" onClick={() => void setEnabled(false)}>
                  Yes, disable {agentId}
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Keep it enabled
                </button>
              </>
            ) : (
              <button type="button" class="danger" onClick={() => setConfirming(true)}>
                Disable agent…
              </button>
            )}
            <button type="button" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : null}
      <p role="status">{note}</p>
    </article>
  );
}
