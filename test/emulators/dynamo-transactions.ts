/**
 * TransactWriteItems for tests, in front of dynalite (which has none): a loopback proxy that
 * forwards every DynamoDB call to dynalite and runs a transaction itself, one at a time, with
 * every other call held until it is done (serializable, as DynamoDB documents transactions
 * against single-item reads and writes:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation).
 * Each action runs as its single-item call with its own condition; on the first failed
 * condition the actions already applied are undone from their before-images and the caller gets
 * TransactionCanceledException with a reason per action, as DynamoDB answers. Put, Update and
 * Delete only (no ConditionCheck), one table with a string partition key `pk`, no
 * ClientRequestToken idempotency: what the stores under test use.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TransactionProxy {
  endpoint: string;
  /** Transactions committed and cancelled, for tests that want to see both happened. */
  stats: { committed: number; cancelled: number };
  close(): Promise<void>;
}

type Json = Record<string, any>;

export async function startTransactionProxy(dynaliteEndpoint: string): Promise<TransactionProxy> {
  const target = new URL(dynaliteEndpoint);
  const stats = { committed: 0, cancelled: 0 };
  let queue: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after everything before it: the proxy's one lock. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const forward = (target_: string, body: string, headers: IncomingHttpHeaders) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: '/',
          headers: { ...headers, 'x-amz-target': target_, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const call = async (op: string, input: Json, headers: IncomingHttpHeaders) => {
    const out = await forward(`DynamoDB_20120810.${op}`, JSON.stringify(input), headers);
    return { ...out, json: JSON.parse(out.body || '{}') as Json };
  };

  async function transact(input: Json, headers: IncomingHttpHeaders): Promise<{ status: number; body: Json }> {
    const actions = (input.TransactItems ?? []) as Json[];
    const undo: (() => Promise<unknown>)[] = [];
    const reasons: { Code: string; Message?: string }[] = actions.map(() => ({ Code: 'None' }));
    for (const [i, action] of actions.entries()) {
      const [kind, spec] = Object.entries(action)[0] as [string, Json];
      const key = kind === 'Put' ? { pk: spec.Item.pk } : spec.Key;
      const before = await call('GetItem', { TableName: spec.TableName, Key: key, ConsistentRead: true }, headers);
      const op = kind === 'Put' ? 'PutItem' : kind === 'Update' ? 'UpdateItem' : kind === 'Delete' ? 'DeleteItem' : undefined;
      if (!op) throw new Error(`the test transaction proxy does not run ${kind}`);
      const out = await call(op, spec, headers);
      if (out.status === 200) {
        const image = before.json.Item as Json | undefined;
        undo.push(() =>
          image
            ? call('PutItem', { TableName: spec.TableName, Item: image }, headers)
            : call('DeleteItem', { TableName: spec.TableName, Key: key }, headers),
        );
        continue;
      }
      if (!String(out.json.__type).endsWith('ConditionalCheckFailedException')) {
        for (const u of undo.reverse()) await u();
        return { status: out.status, body: out.json };
      }
      reasons[i] = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
      for (const u of undo.reverse()) await u();
      stats.cancelled++;
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          CancellationReasons: reasons,
        },
      };
    }
    stats.committed++;
    return { status: 200, body: {} };
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const op = String(req.headers['x-amz-target'] ?? '');
      const headers = { ...req.headers };
      delete headers.host;
      serial(async () => {
        if (op.endsWith('.TransactWriteItems')) {
          const out = await transact(JSON.parse(body) as Json, headers);
          res.writeHead(out.status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(out.body));
          return;
        }
        const out = await forward(op, body, headers);
        res.writeHead(out.status, { 'content-type': String(out.headers['content-type'] ?? 'application/x-amz-json-1.0') }).end(out.body);
      }).catch((err: Error) => res.writeHead(500).end(JSON.stringify({ __type: 'InternalServerError', message: err.message })));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
