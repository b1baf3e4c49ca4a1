import type { Clock } from '../src/ports/clock';

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: (...args: unknown[]) => void;
  args: unknown[];
  every?: number;
}

/** What Node's timers return; code calls `.unref()` on it. */
interface TimerHandle {
  readonly id: number;
  ref(): TimerHandle;
  unref(): TimerHandle;
  hasRef(): boolean;
  refresh(): TimerHandle;
  [Symbol.toPrimitive](): number;
}

/**
 * A discrete-event clock for the simulated measurements (items 4, 5, 7). While installed it replaces
 * the global setTimeout/setInterval and Date.now, so every wait anywhere in the process (Keyturn's
 * Clock.sleep, injected latencies, the AWS SDK's retry backoff and adaptive rate limiter) is an
 * event on one virtual timeline. `run` lets all runnable work finish (promises, setImmediate) before
 * moving time to the next event, so concurrent workers each keep their own timeline and elapsed
 * virtual time is the longest of them, while real time is only the CPU the code needs.
 */
export class VirtualTime {
  private current: number;
  private seq = 0;
  private nextId = 1;
  private readonly timers: Timer[] = [];
  private saved: Record<string, unknown> | undefined;

  constructor(startIso: string) {
    this.current = Date.parse(startIso);
  }

  get now(): number {
    return this.current;
  }

  readonly clock: Clock = {
    now: () => new Date(this.current),
    sleep: (ms) => this.sleep(ms),
  };

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(() => resolve(), Math.max(0, ms), []));
  }

  install(): void {
    if (this.saved) return;
    const g = globalThis as unknown as Record<string, unknown>;
    this.saved = {
      setTimeout: g.setTimeout,
      clearTimeout: g.clearTimeout,
      setInterval: g.setInterval,
      clearInterval: g.clearInterval,
      dateNow: Date.now,
    };
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.handle(this.schedule(fn, nodeDelay(ms), args));
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.handle(this.schedule(fn, nodeDelay(ms), args, nodeDelay(ms)));
    g.clearTimeout = g.clearInterval = (handle: unknown) => this.cancel(handle);
    Date.now = () => this.current;
  }

  uninstall(): void {
    if (!this.saved) return;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = this.saved.setTimeout;
    g.clearTimeout = this.saved.clearTimeout;
    g.setInterval = this.saved.setInterval;
    g.clearInterval = this.saved.clearInterval;
    Date.now = this.saved.dateNow as () => number;
    this.saved = undefined;
  }

  /** Drives the timeline until `work` settles; throws if it waits on something the clock does not control. */
  async run<T>(work: Promise<T>): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    work.then(
      (value) => {
        outcome = { ok: true, value };
      },
      (error: unknown) => {
        outcome = { ok: false, error };
      },
    );
    for (;;) {
      await settle();
      if (outcome) break;
      if (!this.fireNext()) throw new Error('virtual time: the work waits on nothing the clock controls');
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Moves time forward by `ms`, firing whatever falls due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    for (;;) {
      await settle();
      const next = this.peek();
      if (!next || next.at > until) break;
      this.fireNext();
    }
    this.current = until;
  }

  private schedule(fn: (...a: unknown[]) => void, ms: number, args: unknown[], every?: number): Timer {
    const timer: Timer = {
      id: this.nextId++,
      at: this.current + Math.max(0, ms),
      seq: this.seq++,
      fn,
      args,
      ...(every ? { every } : {}),
    };
    this.timers.push(timer);
    return timer;
  }

  private handle(timer: Timer): TimerHandle {
    const handle: TimerHandle = {
      id: timer.id,
      ref: () => handle,
      unref: () => handle,
      hasRef: () => true,
      refresh: () => {
        timer.at = this.current + (timer.every ?? 0);
        return handle;
      },
      [Symbol.toPrimitive]: () => timer.id,
    };
    return handle;
  }

  private cancel(handle: unknown): void {
    const id =
      typeof handle === 'number' ? handle : ((handle as { id?: number } | null | undefined)?.id ?? undefined);
    const index = this.timers.findIndex((t) => t.id === id);
    if (index >= 0) this.timers.splice(index, 1);
  }

  private peek(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private fireNext(): boolean {
    const next = this.peek();
    if (!next) return false;
    this.timers.splice(this.timers.indexOf(next), 1);
    this.current = Math.max(this.current, next.at);
    if (next.every) {
      next.at = this.current + next.every;
      next.seq = this.seq++;
      this.timers.push(next);
    }
    next.fn(...next.args);
    return true;
  }
}

/**
 * Node's rule: a delay below 1 ms (or not a number) is 1 ms, and timers fire on whole milliseconds.
 * Without it the SDK's rate limiter, which waits for fractions of a token, could wait forever in
 * ever smaller steps.
 */
function nodeDelay(ms: number | undefined): number {
  const delay = Number(ms);
  return delay >= 1 && delay <= 2 ** 31 - 1 ? Math.ceil(delay) : 1;
}

const realSetImmediate = setImmediate;

/**
 * Handles that stay open without meaning work is in flight (stdio, listening servers, real timers
 * made before the clock was installed). Anything else (setImmediate, a file read the AWS SDK makes
 * for its shared config) is work that must finish before time may move.
 */
const IDLE_RESOURCES = new Set([
  'TTYWrap',
  'PipeWrap',
  'TCPServerWrap',
  'TCPSocketWrap',
  'Timeout',
  'SignalWrap',
]);

/** Lets every runnable piece of work run: promise jobs, setImmediate chains (the memory stores yield with them), file I/O. */
async function settle(): Promise<void> {
  for (;;) {
    await new Promise<void>((resolve) => realSetImmediate(resolve));
    if (process.getActiveResourcesInfo().every((r) => IDLE_RESOURCES.has(r))) return;
  }
}
