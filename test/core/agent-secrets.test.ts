/**
 * Agent secrets are checked with HMAC-SHA-256 under the server-side key, and an agent still
 * stored with the old scrypt hash is migrated on its first successful connect. Runs through
 * the core's agent service on the hub's real store (lmdb) and key file.
 */
import { createHmac, scryptSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbStore } from '../../hub/adapters/lmdb-store';
import { loadOrCreateAgentSecretKey } from '../../hub/keys';
import { authenticateAgent, createAgent } from '../../lambdas/core/agent-service';
import type { Ports } from '../../lambdas/core/ports';
import { tempDir } from '../hub/fixtures';

let dir: ReturnType<typeof tempDir>;
let store: LmdbStore;
let key: Buffer;
let ports: Ports;

beforeEach(() => {
  dir = tempDir();
  store = new LmdbStore({ path: join(dir.path, 'store') });
  key = loadOrCreateAgentSecretKey(dir.path);
  // Only what the agent service uses: the agent store, the clock and the key.
  ports = {
    agents: store.agentStore(),
    clock: { now: () => Date.now() },
    secretKey: { get: () => Promise.resolve(key) },
  } as unknown as Ports;
});

afterEach(async () => {
  await store.close();
  dir.remove();
});

const legacyScrypt = (secret: string) => {
  const salt = Buffer.from('0123456789abcdef');
  const hash = scryptSync(secret, salt, 32, { N: 16384, r: 8, p: 1 });
  return ['scrypt', 16384, 8, 1, salt.toString('base64url'), hash.toString('base64url')].join('$');
};

it('stores a new agent secret as HMAC-SHA-256 under the server key, and accepts only that secret', async () => {
  const { agentId, secret } = await createAgent(ports, 'site-hmac');
  const expected = createHmac('sha256', key).update(secret).digest('base64url');
  expect((await store.agentStore().get(agentId))!.secretHash).toBe(`hmac-sha256$${expected}`);
  expect(await authenticateAgent(ports, agentId, secret)).toBe(true);
  expect(await authenticateAgent(ports, agentId, secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'))).toBe(false);
  expect(await authenticateAgent(ports, 'nobody', secret)).toBe(false);
});

it('a different server key does not accept the same secret', async () => {
  const { agentId, secret } = await createAgent(ports, 'site-key');
  const other = { ...ports, secretKey: { get: () => Promise.resolve(Buffer.alloc(32, 1)) } };
  expect(await authenticateAgent(other, agentId, secret)).toBe(false);
});

it('migrates an old scrypt hash to HMAC on the first successful connect, and only then', async () => {
  const secret = 'old-secret-from-before-hmac';
  const old = legacyScrypt(secret);
  await store.agentStore().create({ agentId: 'site-old', secretHash: old, createdAt: 1, devices: [] });

  expect(await authenticateAgent(ports, 'site-old', 'wrong')).toBe(false);
  expect((await store.agentStore().get('site-old'))!.secretHash).toBe(old);

  expect(await authenticateAgent(ports, 'site-old', secret)).toBe(true);
  const migrated = (await store.agentStore().get('site-old'))!.secretHash;
  expect(migrated).toBe(`hmac-sha256$${createHmac('sha256', key).update(secret).digest('base64url')}`);
  expect(await authenticateAgent(ports, 'site-old', secret)).toBe(true);
  expect(await authenticateAgent(ports, 'site-old', 'wrong')).toBe(false);
});

it('keeps the hub key in the data dir, private, and the same across restarts', () => {
  expect(statSync(join(dir.path, 'agent-secret-hmac.key')).mode & 0o777).toBe(0o600);
  expect(loadOrCreateAgentSecretKey(dir.path).equals(key)).toBe(true);
  expect(key.length).toBe(32);
});
