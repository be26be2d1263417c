/**
 * Secrets Manager's GetSecretValue on loopback (awsJson1_1: POST /, X-Amz-Target
 * secretsmanager.GetSecretValue), so the real SecretsManagerClient in the Lambda runtime
 * loads the agent secret key in tests. Only that one call; no signature check.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerEmulator {
  endpoint: string;
  /** Secrets by name; tests add and change them. */
  secrets: Map<string, string>;
  /** GetSecretValue calls answered (a container should make one). */
  reads: number;
  close(): Promise<void>;
}

export async function startSecretsManager(initial: Record<string, string> = {}): Promise<SecretsManagerEmulator> {
  const emulator = { secrets: new Map(Object.entries(initial)), reads: 0 } as SecretsManagerEmulator;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: object) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return reply(400, { __type: 'UnknownOperationException', message: 'only GetSecretValue is emulated' });
      }
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const value = SecretId === undefined ? undefined : emulator.secrets.get(SecretId);
      if (value === undefined)
        return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      emulator.reads++;
      reply(200, {
        ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}`,
        Name: SecretId,
        SecretString: value,
        VersionId: '1',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  emulator.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return emulator;
}
