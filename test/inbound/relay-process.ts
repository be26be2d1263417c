/** A real relay process (dist bundle) with channels, and a wait until its channel port accepts. */
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Proc } from '../e2e/harness';
import { waitFor } from '../support/wait';

export interface ChannelRelayOptions {
  url: string;
  dataDir: string;
  channels: Record<string, string>;
  /** relay.json extras: inbound limits, spool. */
  config?: Record<string, unknown>;
  logLevel?: string;
}

export async function startChannelRelay(o: ChannelRelayOptions, waitPorts: number[]): Promise<Proc> {
  const file = join(o.dataDir, 'relay.json');
  writeFileSync(file, JSON.stringify({ channels: o.channels, reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...o.config }));
  const p = run(
    ['relay', '--url', o.url, '--agent', 'agent-1', '--config', file, '--data', o.dataDir, '--log-level', o.logLevel ?? 'warn'],
    {
      EDGEPUSH_AGENT_SECRET: 's3cret',
    },
  );
  for (const port of waitPorts) await waitFor(() => canConnect(port), 10_000, `the relay's channel on port ${port}`);
  return p;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** VmRSS of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}
