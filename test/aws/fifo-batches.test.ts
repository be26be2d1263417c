/**
 * What the emulated event source mapping hands the dispatcher must be what Lambda's FIFO mapping
 * hands it: up to 10 records, a group's in its order, and nothing of a group while one of its
 * messages is in flight. Plain fauxqs returns one message per group per receive and puts
 * messages back in reverse; startFauxqs runs it patched (test/emulators/fauxqs-fifo.mjs) to
 * behave like real SQS FIFO, which pipelining relies on.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { TEST_CREDENTIALS, TEST_REGION, createFifoQueue, startFauxqs, type Fauxqs } from './emulators';

let fauxqs: Fauxqs;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  fauxqs = await startFauxqs();
  sqs = new SQSClient({ region: TEST_REGION, endpoint: fauxqs.endpoint, credentials: TEST_CREDENTIALS });
  queueUrl = await createFifoQueue(fauxqs.endpoint, 'batches', 60);
});

afterAll(async () => {
  sqs.destroy();
  await fauxqs.close();
});

const send = (body: string, group = 'agent#lab') =>
  sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: body }));

async function receive(): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
  );
  return out.Messages ?? [];
}

describe('the emulated FIFO event source', () => {
  it('delivers a group in order, up to 10, nothing more while one is in flight, and in order after a put-back', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => `m${String(i + 1).padStart(2, '0')}`);
    for (const b of bodies) await send(b);

    const first = await receive();
    expect(first.map((m) => m.Body)).toStrictEqual(bodies.slice(0, 10));
    // The group is locked while any of its messages is in flight: m11 and m12 wait.
    expect(await receive()).toStrictEqual([]);

    // The dispatcher keeps m01 in flight and puts m02..m10 back, in order.
    for (const m of first.slice(1)) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    expect(await receive()).toStrictEqual([]);

    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first[0].ReceiptHandle }));
    const second = await receive();
    // Put back one by one, they come back in the group's order, followed by the next one.
    expect(second.map((m) => m.Body)).toStrictEqual(bodies.slice(1, 11));
    for (const m of second) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    const last = await receive();
    expect(last.map((m) => m.Body)).toStrictEqual(['m12']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: last[0].ReceiptHandle }));
  });

  it('delivers another group while one is locked', async () => {
    await send('a1', 'agent#a');
    await send('a2', 'agent#a');
    const batch = await receive();
    expect(batch.map((m) => m.Body)).toStrictEqual(['a1', 'a2']);
    await send('b1', 'agent#b');
    await send('b2', 'agent#b');
    await send('a3', 'agent#a');
    expect((await receive()).map((m) => m.Body)).toStrictEqual(['b1', 'b2']);
  });

  it('brings back messages whose visibility ran out in their order', async () => {
    for (const b of ['t1', 't2', 't3']) await send(b, 'agent#t');
    const batch = await receive();
    expect(batch.map((m) => m.Body)).toStrictEqual(['t1', 't2', 't3']);
    // As after a relay drop: each in-flight record runs out of its (own) visibility.
    for (const m of [...batch].reverse()) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 1 }));
    }
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await receive()).map((m) => m.Body)).toStrictEqual(['t1', 't2', 't3']);
  });
});
