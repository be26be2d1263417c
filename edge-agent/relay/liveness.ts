/**
 * Heartbeat and dead-connection detection for one socket. Every `intervalMs` it asks for a
 * heartbeat to be sent; if nothing at all arrives from the peer within `timeoutMs` after
 * that, the connection is declared dead. So a silent connection is noticed within
 * intervalMs + timeoutMs, well before API Gateway's 10-minute idle cut would hide it.
 */
export interface LivenessOptions {
  intervalMs: number;
  timeoutMs: number;
  sendHeartbeat: () => void;
  onDead: (silentForMs: number) => void;
}

export class Liveness {
  private interval: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private lastHeardAt = Date.now();

  constructor(private readonly opts: LivenessOptions) {}

  start(): void {
    this.lastHeardAt = Date.now();
    this.interval = setInterval(() => this.beat(), this.opts.intervalMs);
    this.interval.unref();
  }

  /** Anything received from the peer proves it alive. */
  heard(): void {
    this.lastHeardAt = Date.now();
    if (this.deadline) {
      clearTimeout(this.deadline);
      this.deadline = undefined;
    }
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.deadline);
    this.interval = this.deadline = undefined;
  }

  private beat(): void {
    this.opts.sendHeartbeat();
    if (this.deadline) return; // still waiting on the previous one
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      this.opts.onDead(Date.now() - this.lastHeardAt);
    }, this.opts.timeoutMs);
    this.deadline.unref();
  }
}
