/**
 * A real, small InboundSink for tests: it keeps what it accepted in memory, in order, and can be
 * told to refuse (as a full spool or an unreachable cloud would) or to answer only when released.
 */
import type { InboundSink, InboundSubmission, InboundVerdict } from '../../edge-agent/relay/inbound-sink';

export type SinkMode = 'accept' | 'refuse' | 'throw' | 'manual';

export class RecordingSink implements InboundSink {
  /** Every submission, in the order it came, refused ones included. */
  readonly attempts: InboundSubmission[] = [];
  /** What was stored, in order. */
  readonly accepted: InboundSubmission[] = [];
  private readonly waiting: { message: InboundSubmission; resolve(v: InboundVerdict): void }[] = [];
  private waiters: (() => void)[] = [];

  constructor(public mode: SinkMode = 'accept') {}

  submit(message: InboundSubmission): Promise<InboundVerdict> {
    this.attempts.push(message);
    this.wake();
    switch (this.mode) {
      case 'refuse':
        return Promise.resolve({ outcome: 'refused', reason: 'spool full' });
      case 'throw':
        return Promise.reject(new Error('the sink is closed'));
      case 'manual':
        return new Promise((resolve) => this.waiting.push({ message, resolve }));
      default:
        this.accepted.push(message);
        return Promise.resolve({ outcome: 'accepted' });
    }
  }

  /** Submissions waiting for release() in manual mode. */
  get held(): number {
    return this.waiting.length;
  }

  /** Answers the oldest waiting submission (manual mode). */
  release(verdict: InboundVerdict = { outcome: 'accepted' }): void {
    const next = this.waiting.shift();
    if (!next) throw new Error('no submission is waiting');
    if (verdict.outcome !== 'refused') this.accepted.push(next.message);
    next.resolve(verdict);
  }

  /** Bodies accepted so far. */
  bodies(): string[] {
    return this.accepted.map((m) => m.body);
  }

  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 25);
      });
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
