import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { parse } from 'yaml';
import type { FakeSlackApi } from '../adapters/sandbox/fake-slack-api';
import { createSandboxApp, type SandboxAppOptions } from '../adapters/sandbox/sandbox-app';
import type { SandboxClock } from '../adapters/sandbox/sandbox-clock';
import { keepSnapshots, readSnapshot, type SandboxSnapshot } from '../adapters/sandbox/sandbox-snapshot';
import type { SimulatedOrganisation } from '../adapters/sandbox/simulated-places';
import type { Deps } from '../app/deps';
import { postDigest } from '../app/post-digest';
import { recordSessionEvent } from '../app/record-session-event';
import { nextSweepDue } from '../app/next-due';
import { sweep } from '../app/sweep';
import { digestCronPattern } from './digest-schedule';

/** The Slack app's own definition: the sandbox offers exactly the slash commands a real install gets. */
const MANIFEST = path.resolve(__dirname, '../../slack-app-manifest.yml');

/** Runs whatever fell due between `from` and `to` on the sandbox clock; `nextRun` says when it next has work. */
export type SandboxSchedule = ((moved: { from: Date; to: Date }) => Promise<void>) & {
  nextRun?: (after: Date) => Date | null | undefined;
};

export interface SandboxPageOptions {
  deps: Deps;
  slack: FakeSlackApi;
  /** The simulated accounts and regions (deps.aws). */
  aws: SimulatedOrganisation;
  clock: SandboxClock;
  url: () => string;
  signingSecret: string;
  /** The per-process secret the page is served with (page-files.ts) and must send back (sandbox-app.ts). */
  pageToken: string;
  /** Resolves when the in-process queue has nothing waiting or running. */
  idle: () => Promise<void>;
  /** Empties the grant table. */
  resetStorage: () => Promise<void>;
  /** Where to keep messages, policies, sessions and the clock between runs; unset keeps them in memory. */
  snapshotFile?: string;
  /** Receives CloudTrail-shaped StartSession events for simulated sessions. Default: the session-events use case. */
  onSessionEvent?: SandboxAppOptions['onSessionEvent'];
  /**
   * Scheduled work besides the sweeper (on Lambda: EventBridge schedules), run after each clock move
   * with the span it jumped, so a schedule whose time fell inside the jump runs once. The digest is
   * always one of them.
   */
  schedules?: readonly SandboxSchedule[];
}

/**
 * Sandbox mode's page and its state: restores the last run's Slack and AWS state (when a snapshot
 * file is given), serves the page and its API, and saves the state as it changes.
 */
export function mountSandboxPage(opts: SandboxPageOptions): {
  handle: ReturnType<typeof createSandboxApp>;
  close: () => Promise<void>;
} {
  const { deps, slack, aws, clock } = opts;
  const home = deps.config.aws.accountId;
  const take = (): SandboxSnapshot => {
    const { [home]: account, ...members } = aws.snapshot();
    if (!account) throw new Error('the simulated organisation has no home account');
    return { version: 1, clockOffsetMs: clock.offsetMs, slack: slack.snapshot(), account, members };
  };
  const saved = opts.snapshotFile ? readSnapshot(opts.snapshotFile, deps.logger) : undefined;
  if (saved) {
    slack.restore(saved.slack);
    aws.restore({ ...saved.members, [home]: saved.account });
    clock.advance(Math.max(0, saved.clockOffsetMs));
    deps.logger.info(
      { file: opts.snapshotFile },
      'sandbox state restored (npm start -- --reset starts clean)',
    );
  }
  const snapshots = opts.snapshotFile
    ? keepSnapshots({ file: opts.snapshotFile, take, logger: deps.logger })
    : undefined;
  const schedules = [digestWhenCrossed(deps), ...(opts.schedules ?? [])];

  const handle = createSandboxApp({
    config: deps.config,
    slack,
    aws,
    clock,
    botUrl: opts.url,
    signingSecret: opts.signingSecret,
    pageToken: opts.pageToken,
    commands: manifestCommands(),
    settle: opts.idle,
    // What the schedules would have done by the new time: expiry, warnings and lapses happen in sweep.
    nextDue: async (after) => {
      const times = [await nextSweepDue(deps, after), ...schedules.map((s) => s.nextRun?.(after))].filter(
        (t): t is Date => t !== undefined && t !== null,
      );
      return times.length > 0 ? new Date(Math.min(...times.map((t) => t.getTime()))) : undefined;
    },
    afterClockMove: async (moved) => {
      await sweep(deps);
      await opts.idle();
      for (const due of schedules) await due(moved);
      await opts.idle();
    },
    reset: async () => {
      await opts.idle();
      await opts.resetStorage();
      slack.restore();
      aws.restore();
      clock.reset();
      snapshots?.save();
    },
    onChange: () => snapshots?.save(),
    // On AWS, CloudTrail tells the session-events function; here the page's Start session button does.
    onSessionEvent:
      opts.onSessionEvent ??
      (async (event) => {
        await recordSessionEvent(deps, event);
      }),
    logger: deps.logger,
  });
  return { handle, close: async () => snapshots?.stop() };
}

/** Slash commands in slack-app-manifest.yml (`features.slash_commands[].command`); /access if it cannot be read. */
export function manifestCommands(file: string = MANIFEST): string[] {
  try {
    const manifest = parse(readFileSync(file, 'utf8')) as {
      features?: { slash_commands?: { command?: unknown }[] };
    };
    const commands = (manifest.features?.slash_commands ?? [])
      .map((c) => c.command)
      .filter((c): c is string => typeof c === 'string');
    return commands.length > 0 ? commands : ['/access'];
  } catch {
    return ['/access'];
  }
}

/**
 * The digest's schedule on the sandbox clock: the real-time cron (digest-schedule.ts) never sees the
 * clock jump, so a jump across `digest.at` in `digest.timezone` posts the digest, as the schedule
 * would have. A jump across several days posts once; the digest covers the day before the new time,
 * and is left out when nothing happened that day (the day before the story began).
 */
export function digestWhenCrossed(
  deps: Deps,
  // A sandbox story starts today: a digest of an empty day before it only puzzles (issue 15).
  post: () => Promise<unknown> = () => postDigest(deps, { skipEmpty: true }),
): SandboxSchedule {
  const cron = new Cron(digestCronPattern(deps.config.digest.at), {
    timezone: deps.config.digest.timezone,
    paused: true,
  });
  const schedule: SandboxSchedule = async ({ from, to }) => {
    const next = cron.nextRun(from);
    if (next && next.getTime() <= to.getTime()) await post();
  };
  schedule.nextRun = (after) => cron.nextRun(after);
  return schedule;
}
