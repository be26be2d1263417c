/** The console's one page: agents, pushes and inbound messages, each with its detail. */
import { useMemo, useState } from 'preact/hooks';
import { createApi } from './api';
import { AgentsView } from './agents-view';
import { InboundView } from './inbound-view';
import { PushesView, type PushFilter } from './pushes-view';
import type { Agent } from './types';

export function App({ initialToken }: { initialToken?: string }) {
  const [token, setToken] = useState(initialToken);
  const [refused, setRefused] = useState<string | undefined>();
  const [refresh, setRefresh] = useState(0);
  const [filter, setFilter] = useState<PushFilter>({ agentId: '', destination: '', status: '' });
  const [inboundAgent, setInboundAgent] = useState('');
  const [agentIds, setAgentIds] = useState<string[]>([]);
  const api = useMemo(
    () => (token ? createApi(token, new URL('../', window.location.href), (err) => setRefused(err.message)) : undefined),
    [token],
  );

  const header = (
    <header>
      <h1>EdgePush console</h1>
      {api && !refused ? (
        <button type="button" onClick={() => setRefresh((n) => n + 1)}>
          Refresh
        </button>
      ) : null}
    </header>
  );
  if (!api || refused) {
    return (
      <>
        {header}
        <main>
          {refused ? (
            <p class="error" role="alert">
              The server refused the token: {refused}. Open the console with a valid token (<code>npx edgepush token</code> on the hub), or
              paste one below.
            </p>
          ) : (
            <p>
              Open the console as <code>/console/#token=&lt;token&gt;</code>, or paste a token below. It is kept in this tab's memory only.
            </p>
          )}
          <TokenForm
            onToken={(t) => {
              setRefused(undefined);
              setToken(t);
            }}
          />
        </main>
      </>
    );
  }
  const showPushes = (agentId: string) => setFilter({ agentId, destination: '', status: '' });
  return (
    <>
      {header}
      <main>
        <AgentsView
          api={api}
          refresh={refresh}
          onShowPushes={showPushes}
          onShowInbound={setInboundAgent}
          onAgents={(agents: Agent[]) => setAgentIds(agents.map((a) => a.agentId))}
        />
        <PushesView api={api} refresh={refresh} filter={filter} agentIds={agentIds} onFilter={setFilter} />
        <InboundView api={api} refresh={refresh} agentId={inboundAgent} agentIds={agentIds} onAgent={setInboundAgent} />
      </main>
    </>
  );
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="filters"
      aria-label="Sign in"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onToken(value.trim());
      }}
    >
      <div class="field">
        <label for="token">Token</label>
        <input id="token" type="password" name="token" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </div>
      <button type="submit">Use token</button>
    </form>
  );
}
