/** A manual clock for the scheduler's `Timers` port: no real sleeping in tests. */
import type { Timers } from '../../src/scheduler/scheduler.js';

/** Timers driven by hand: `advanceTo` runs what is due, in time order, and lets promises settle. */
export class ManualClock implements Timers {
  private seq = 0;
  private timers: Array<{ id: number; at: number; fn: () => void }> = [];
  constructor(public nowMs: number) {}
  now = () => this.nowMs;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ id, at: this.nowMs + ms, fn });
    return id;
  }
  /** Timers armed and not yet run. */
  pending(): number {
    return this.timers.length;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  async advanceTo(ms: number): Promise<void> {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= ms).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.nowMs = due.at;
      due.fn();
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    }
    this.nowMs = ms;
  }
}
