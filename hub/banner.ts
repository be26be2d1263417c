/** What `edgepush hub` prints at start: where it listens and the exact next steps. */
import { relative } from 'node:path';

export function startupBanner(hub: { url: string; wsUrl: string; dataDir: string }): string {
  const rel = relative(process.cwd(), hub.dataDir);
  const data = rel && !rel.startsWith('..') ? rel : hub.dataDir;
  return [
    `EdgePush hub is running.`,
    `  Push API:         ${hub.url}/   (GET ${hub.url}/health needs no token)`,
    `  Relay WebSocket:  ${hub.wsUrl}`,
    `  Web console:      ${hub.url}/console/#token=<token from step 1>`,
    `  Data:             ${hub.dataDir} (store and token signing key; keep it private)`,
    ``,
    `Next steps, in another terminal in this folder:`,
    `  1. Get a token (valid 24 h, both scopes):`,
    `       export EDGEPUSH_API=${hub.url}`,
    `       export EDGEPUSH_TOKEN=$(npx edgepush token --data ${data})`,
    `  2. Create an agent (prints its secret once):`,
    `       npx edgepush agent create site-1`,
    `  3. Start a device simulator and a relay for that agent:`,
    `       npx edgepush hl7 listen 2575 &`,
    `       EDGEPUSH_AGENT_SECRET=<secret from step 2> npx edgepush relay --url ${hub.wsUrl} --agent site-1 --device lab=mllp://127.0.0.1:2575`,
    `  4. Push a message and get the ACK back:`,
    `       npx edgepush push site-1 lab --generate-example`,
    `  5. Look at agents and pushes in the web console (the token stays in the browser tab):`,
    `       echo "${hub.url}/console/#token=$EDGEPUSH_TOKEN"`,
    `Stop the hub with Ctrl+C. Queued pushes are kept in the data dir and sent after a restart.`,
    ``,
  ].join('\n');
}
