import type { Clock } from '../../ports/clock';

/**
 * The sandbox's injected clock: real time plus an offset that only moves forward, so the page's
 * "+10 min" and "+1 h" buttons can show expiry, warnings and lapses without waiting. Slack request
 * signatures are still checked against real time (Bolt refuses timestamps older than 5 minutes),
 * so only Keyturn's own notion of "now" moves, never the signing timestamps.
 */
export class SandboxClock implements Clock {
  private offset: number;
  private readonly realNow: () => number;

  constructor(opts: { offsetMs?: number; realNow?: () => number } = {}) {
    this.offset = opts.offsetMs ?? 0;
    this.realNow = opts.realNow ?? Date.now;
  }

  now(): Date {
    return new Date(this.realNow() + this.offset);
  }

  /** Waits in real time: the offset is for the bot's view of the world, not for its timers. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** How far ahead of real time the sandbox is, in milliseconds. */
  get offsetMs(): number {
    return this.offset;
  }

  /** Moves the clock forward. Going back is refused: grants, sessions and messages assume time only moves on. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`the sandbox clock only moves forward (got ${ms} ms)`);
    this.offset += ms;
  }

  /** Back to real time, for a reset that also forgets everything that happened. */
  reset(): void {
    this.offset = 0;
  }
}
