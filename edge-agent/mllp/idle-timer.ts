/**
 * Calls onIdle once nothing has happened for timeoutMs. One timer per idle period rather than
 * one per message: when it fires it checks the time of the last touch and re-arms for the rest.
 * The timer is unref'd: an idle check never keeps a process alive.
 */
export class IdleTimer {
  private timer?: NodeJS.Timeout;
  private lastTouch = 0;

  /** timeoutMs <= 0 disables it. */
  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
  ) {}

  /** Records activity and makes sure a check is scheduled. */
  touch(): void {
    if (this.timeoutMs <= 0) return;
    this.lastTouch = Date.now();
    if (!this.timer) this.schedule(this.timeoutMs);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const idleFor = Date.now() - this.lastTouch;
      if (idleFor < this.timeoutMs) this.schedule(this.timeoutMs - idleFor);
      else this.onIdle();
    }, ms).unref();
  }
}
