import type { Logger } from '../../ports/logger';
import type { Job, WorkQueue } from '../../ports/work-queue';

type Handler = (job: Job) => Promise<void>;

/**
 * The local stand-in for SQS: jobs run in this process with bounded concurrency, failed jobs are
 * retried with backoff and, like a DLQ, kept and logged when they keep failing. Delivery is
 * at-least-once in spirit: handlers must be idempotent, exactly as on Lambda.
 */
export class InProcessQueue implements WorkQueue {
  private handler: Handler | undefined;
  private readonly waiting: { job: Job; attempt: number }[] = [];
  private running = 0;
  private timers = new Set<NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  readonly deadLetters: { job: Job; error: string }[] = [];

  constructor(
    private readonly opts: {
      logger: Logger;
      concurrency?: number;
      maxAttempts?: number;
      retryDelayMs?: number;
    },
  ) {}

  /** Handlers need the queue to exist first (they enqueue follow-up jobs), so they are attached after. */
  start(handler: Handler): void {
    this.handler = handler;
    this.pump();
  }

  async enqueue(job: Job): Promise<void> {
    this.waiting.push({ job, attempt: 1 });
    setImmediate(() => this.pump());
  }

  /** Resolves when no job is waiting, running or scheduled for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Lets the jobs already running (and the follow-ups they enqueue) finish, for at most `timeoutMs`,
   * then stops. A job cut off mid-way is one a redelivery would repeat: every handler is idempotent.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([this.idle(), timeout]);
    clearTimeout(timer);
    this.stop();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.handler = undefined;
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.running === 0 && this.timers.size === 0;
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (this.running < (this.opts.concurrency ?? 4)) {
      const next = this.waiting.shift();
      if (!next) break;
      this.running++;
      handler(next.job)
        .catch((error: unknown) => this.retryOrBury(next, error))
        .finally(() => {
          this.running--;
          this.pump();
          this.notifyIdle();
        });
    }
    this.notifyIdle();
  }

  private retryOrBury(entry: { job: Job; attempt: number }, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.closing) {
      // Shutting down: a retry would outlive the process. Handlers are idempotent; the sweeper re-drives.
      this.opts.logger.warn({ job: entry.job, err: message }, 'job cut off by shutdown; not retried');
      return;
    }
    if (entry.attempt >= (this.opts.maxAttempts ?? 5)) {
      this.deadLetters.push({ job: entry.job, error: message });
      this.opts.logger.error(
        { job: entry.job, err: message },
        'job failed on every attempt; kept as a dead letter',
      );
      return;
    }
    this.opts.logger.warn({ job: entry.job, attempt: entry.attempt, err: message }, 'job failed; retrying');
    const delay = (this.opts.retryDelayMs ?? 500) * 2 ** (entry.attempt - 1);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.waiting.push({ job: entry.job, attempt: entry.attempt + 1 });
      this.pump();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
