/** Timers on a manual clock: `advance(ms)` fires what is due, in order. For the ASTM link tests. */
import type { LinkTimers } from '../../../edge-agent/astm/link';

interface Entry {
  at: number;
  fn: () => void;
  id: number;
}

export class ManualTimers implements LinkTimers {
  now = 0;
  private entries: Entry[] = [];
  private nextId = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const entry = { at: this.now + ms, fn, id: this.nextId++ };
    this.entries.push(entry);
    return entry.id;
  }

  clearTimeout(handle: unknown): void {
    this.entries = this.entries.filter((e) => e.id !== handle);
  }

  get pending(): number {
    return this.entries.length;
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      this.entries.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.entries[0];
      if (!next || next.at > until) break;
      this.entries.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = until;
  }
}
