import { Cron } from 'croner';
import type { Deps } from '../app/deps';
import { postDigest } from '../app/post-digest';

/** A 5-field cron pattern for `digest.at` (HH:MM, validated at config load): every day at that minute. */
export function digestCronPattern(at: string): string {
  const [hours, minutes] = at.split(':');
  return `${Number(minutes)} ${Number(hours)} * * *`;
}

export interface DigestSchedule {
  /** The next time the digest runs after `from` (default: now). */
  nextRun(from?: Date): Date | null;
  /** Runs it now, as the schedule would. */
  trigger(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Locally (server and sandbox), the daily digest runs on a cron in `digest.timezone`, so it keeps
 * local time across daylight saving as EventBridge Scheduler does on Lambda. `run` defaults to
 * posting the previous local day's digest; a run still going when the next is due is skipped.
 */
export function startDigestSchedule(
  deps: Pick<Deps, 'config' | 'logger'> & Parameters<typeof postDigest>[0],
  run: () => Promise<unknown> = () => postDigest(deps),
): DigestSchedule {
  let running: Promise<unknown> | undefined;
  const job = new Cron(
    digestCronPattern(deps.config.digest.at),
    { timezone: deps.config.digest.timezone, protect: true, unref: true },
    async () => {
      running = run()
        .catch((error: unknown) => deps.logger.error({ err: (error as Error).message }, 'digest failed'))
        .finally(() => {
          running = undefined;
        });
      await running;
    },
  );
  return {
    nextRun: (from) => job.nextRun(from),
    trigger: () => job.trigger(),
    stop: async () => {
      job.stop();
      await running;
    },
  };
}
