// fauxqs (SQS emulator) with real SQS FIFO batches, run as its own process by
// test/aws/emulators.ts: `node fauxqs-fifo.mjs <fauxqs dist dir>`. Two gaps are closed, since the
// dispatcher's pipelining depends on both:
// - fauxqs returns at most one message per message group per ReceiveMessage; real SQS returns
//   several of one group, in order, up to MaxNumberOfMessages. Here a receive takes again from
//   the groups it just took from (and only those: a group locked before it stays locked).
// - fauxqs puts each message made visible again (visibility 0, or a timeout running out) back at
//   the front of its group one by one, so several come back reversed; real SQS keeps a group in
//   sequence-number order. Here the groups are re-sorted by sequence number after every put-back.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.argv[2];
const { SqsQueue } = await import(pathToFileURL(path.join(dist, 'sqs/sqsStore.js')).href);

const bySequence = (a, b) => (a.sequenceNumber < b.sequenceNumber ? -1 : a.sequenceNumber > b.sequenceNumber ? 1 : 0);
function sortGroups(queue) {
  for (const msgs of queue.fifoMessages.values()) msgs.sort(bySequence);
}

for (const name of ['processTimers', 'changeVisibility']) {
  const original = SqsQueue.prototype[name];
  SqsQueue.prototype[name] = function (...args) {
    const out = original.apply(this, args);
    if (this.isFifo()) sortGroups(this);
    return out;
  };
}

const dequeueOnePerGroup = SqsQueue.prototype.dequeueFifo;
SqsQueue.prototype.dequeueFifo = function (maxCount, visibilityTimeout, dlqResolver) {
  const count = Math.min(maxCount, 10);
  const result = dequeueOnePerGroup.call(this, count, visibilityTimeout, dlqResolver);
  const groupOf = (received) => this.inflightMessages.get(received.ReceiptHandle)?.message.messageGroupId;
  let fresh = result;
  while (result.length < count && fresh.length > 0) {
    // Reopen only the groups this receive took from, for one more message each.
    const reopened = new Map();
    for (const received of fresh) {
      const group = groupOf(received);
      if (group !== undefined && !reopened.has(group)) reopened.set(group, this.fifoLockedGroups.get(group) ?? 0);
    }
    const others = new Map([...this.fifoLockedGroups].filter(([group]) => !reopened.has(group)));
    const held = [...this.fifoMessages.keys()].filter((group) => !reopened.has(group) && !others.has(group));
    // Groups not taken from in this receive are locked for the next pass (they had nothing, or
    // the count ran out), so the pass only continues the reopened ones.
    for (const group of held) this.fifoLockedGroups.set(group, 1);
    for (const group of reopened.keys()) this.fifoLockedGroups.delete(group);
    fresh = dequeueOnePerGroup.call(this, count - result.length, visibilityTimeout, dlqResolver);
    for (const group of held) this.fifoLockedGroups.delete(group);
    for (const [group, locks] of reopened) this.fifoLockedGroups.set(group, locks + (this.fifoLockedGroups.get(group) ?? 0));
    result.push(...fresh);
  }
  return result;
};

const { startFauxqs } = await import(pathToFileURL(path.join(dist, 'app.js')).href);
startFauxqs({ logger: true });
