import type { Config } from '../config/types';
import { type DigestView, finishDigest, foldGrants, foldSessions, startDigest } from '../domain/digest';
import { inDay, type LocalDay, localDay, previousLocalDay, utcDatesCovering } from '../domain/digest-day';
import { type DigestRun, digestRun, isRunFailure, runOutcome } from '../domain/digest-outcome';
import type { Deps } from './deps';

export type DigestDeps = Pick<
  Deps,
  'config' | 'clock' | 'grants' | 'digestData' | 'sessionChat' | 'logger'
> & {
  /** The Run Command store (issue 4), of which the digest reads a day's runs and their node results. */
  runs: Pick<Deps['runs'], 'listByDay' | 'nodeResults'>;
};

/** Failed runs whose failed nodes are looked up by name; the digest names only the first few anyway. */
const NAMED_FAILURES = 20;

/**
 * The longest a grant can live from its request: approval timeout plus the longest grant with its
 * extensions. A session or extension on the day can belong to a grant requested this long before.
 */
export function grantLifetimeMs(config: Config): number {
  const minutes = Object.values(config.targets).map(
    (t) => t.approvalTimeoutMinutes + (t.maxTotalMinutes ?? t.maxDurationMinutes),
  );
  return Math.max(0, ...minutes) * 60_000;
}

/** `date` (YYYY-MM-DD) in the digest's zone, or the local day before today. */
export function digestDay(deps: Pick<Deps, 'config' | 'clock'>, date?: string): LocalDay {
  const { timezone } = deps.config.digest;
  return date === undefined ? previousLocalDay(deps.clock.now(), timezone) : localDay(date, timezone);
}

/**
 * Reads one local day's data (by-day index queries, every page) and composes its digest. Grants and
 * sessions are folded into the tallies a page at a time, grants first (a session is named after its
 * grant), so memory stays flat however busy the day; the small reads run alongside.
 */
export async function buildDigest(deps: DigestDeps, opts: { date?: string } = {}): Promise<DigestView> {
  const day = digestDay(deps, opts.date);
  const since = new Date(Date.parse(day.start) - grantLifetimeMs(deps.config)).toISOString();
  const rest = Promise.all([
    deps.digestData.anomalies(day.start, day.end),
    deps.grants.listByStatus('active'),
    commandRuns(deps, day),
  ]);
  // Awaited below; until then a failure must not count as unhandled.
  rest.catch(() => undefined);
  const tally = startDigest({
    day,
    now: deps.clock.now().toISOString(),
    account: deps.config.aws,
    people: deps.config.people,
  });
  for await (const page of deps.digestData.grantsRequested(since, day.end)) foldGrants(tally, page);
  for await (const page of deps.digestData.sessionsStarted(day.start, day.end)) foldSessions(tally, page);
  const [anomalies, activeNow, runs] = await rest;
  return finishDigest(tally, { runs, anomalies, activeNow });
}

/** The day's runs from the CommandRunStore's by-day index, with the failed nodes of failing runs named. */
async function commandRuns(deps: DigestDeps, day: LocalDay): Promise<DigestRun[]> {
  const stored = (
    await Promise.all(utcDatesCovering(day.start, day.end).map((date) => deps.runs.listByDay(date)))
  )
    .flat()
    .filter((run) => inDay(day, run.requestedAt));
  let named = 0;
  return Promise.all(
    stored.map(async (run) => {
      if (!isRunFailure({ outcome: runOutcome(run) }) || run.status === 'failed' || named++ >= NAMED_FAILURES)
        return digestRun(run);
      const failed = (await deps.runs.nodeResults(run.id))
        .filter((r) => r.outcome !== 'succeeded')
        .map((r) => r.nodeName ?? r.nodeId);
      return digestRun(run, failed);
    }),
  );
}

export type PostDigestOutcome =
  | { outcome: 'posted'; view: DigestView }
  | { outcome: 'already-posted'; view: DigestView }
  /** `skipEmpty` and nothing happened that day: nothing posted, and the day is not claimed. */
  | { outcome: 'skipped-empty'; view: DigestView };

/**
 * The scheduled daily digest (Lambda schedule, or the local cron): composes the digest of the previous
 * local day (or `date`) and posts it to the audit channel, once per day however often the schedule fires.
 */
export async function postDigest(
  deps: DigestDeps,
  opts: { date?: string; skipEmpty?: boolean } = {},
): Promise<PostDigestOutcome> {
  const view = await buildDigest(deps, opts);
  if (opts.skipEmpty && view.empty) return { outcome: 'skipped-empty', view };
  if (!(await deps.digestData.claimPost(view.day, deps.clock.now().toISOString()))) {
    deps.logger.info({ date: view.day.date }, 'digest already posted');
    return { outcome: 'already-posted', view };
  }
  await deps.sessionChat.postDigest(deps.config.slack.auditChannel, view);
  deps.logger.info({ date: view.day.date, empty: view.empty }, 'digest posted');
  return { outcome: 'posted', view };
}
