import { addMinutes, type Grant, toIsoSeconds, transition } from '../domain/grant';
import { isAccountUnreachable } from '../ports/aws-places';
import { forEachBounded } from './bounded';
import type { Deps } from './deps';
import { requestEnding } from './end-grant';
import { applyExtension } from './extend-grant';
import { grantChanged } from './grant-updates';
import { placeOf } from './places';
import { reconcile } from './reconcile';
import { reconcileSessions } from './reconcile-sessions';
import { type Outage, reportOutages, reportOverdueRevoke } from './overdue-revokes';
import { type NodeLookup, nodesOncePer, revokeGrant } from './revoke-grant';

export interface SweepReport {
  ended: number;
  warned: number;
  lapsed: number;
  redriven: number;
  failures: number;
  /**
   * Accounts Keyturn could not reach this sweep (their grantor role could not be assumed, or they did
   * not answer before the cutoff): their due grants wait, ending, for the next sweep. Only when there are any.
   */
  unreachable?: string[];
}

export interface SweepOptions {
  /** Also reconcile IAM with the store (orphan policies, vanished ones) in every declared account. */
  reconcile?: boolean;
  /**
   * Aborted when the sweep must return, whatever is still in flight (the Lambda handler aborts it
   * SWEEP_CUTOFF_MS in, inside its 55 s timeout). Each account's work runs on its own, so what is
   * still in flight then is a slow account's: it keeps its leases and conditional writes, and the
   * next sweep takes over. Without it the sweep waits for everything.
   */
  cutoff?: AbortSignal;
}

/**
 * IAM has no published rate and throttles (FACTS.md): revokes are bounded, each call retried by the
 * SDK with jittered backoff (standard mode, src/main/aws-clients.ts). A revoke spends most of its time
 * waiting on Session Manager (find, terminate, confirm), so more of them in flight than IAM alone
 * would bear: 1,000 expiring in one minute end within one sweep, 10,000 within four (BENCHMARKS.md, item 5).
 * IAM's throttling is per account, and so is this bound: each account's revokes run beside the others'.
 */
export const REVOKE_CONCURRENCY = 64;
/**
 * The sweeper's Lambda timeout is 55 s (serverless.yml). No revoke starts after this much of a sweep,
 * so the ones in flight and the rest of the sweep finish inside it; what is left is the next sweep's,
 * a minute later. A sweep cut off by the timeout would instead strand its leases for REVOKE_LEASE_MS.
 */
export const REVOKE_BUDGET_MS = 35_000;
/** Warnings and session reconciling start nothing after this much of a sweep (same timeout). */
export const SWEEP_DEADLINE_MS = 50_000;
/**
 * When the Lambda handler stops waiting (`cutoff`): a call hanging in an account that does not answer
 * (an STS or SSM endpoint that never replies) must not take the whole sweep into the 55 s timeout.
 */
export const SWEEP_CUTOFF_MS = 52_000;
/** An approved grant or extension not applied within this was lost between the write and its queued job. */
const STUCK_AFTER_MS = 2 * 60_000;

/**
 * Runs every minute (Lambda schedule, or a timer locally): ends grants that are due, warns before
 * expiry, lapses undecided requests, re-drives work whose queued job was lost, reconciles sessions in
 * every account and region served, and, when asked, IAM with the store in every declared account.
 * Safe to run twice at once and after a crash at any point.
 *
 * Every account is swept on its own, beside the others: its due grants' revokes, then its IAM
 * reconcile, then its regions' sessions. An account Keyturn cannot reach (its grantor role cannot be
 * assumed) fails only its own work: its grants stay active and ending, are tried again next sweep,
 * and the audit channel hears of them once each, in one message per sweep at most; once it fails as a
 * whole, the rest of its grants this sweep are marked ending without a call, rather than each one
 * asking STS again. Another account's expiries never wait for it.
 */
export async function sweep(deps: Deps, opts: SweepOptions = {}): Promise<SweepReport> {
  const report: SweepReport = { ended: 0, warned: 0, lapsed: 0, redriven: 0, failures: 0 };
  const now = deps.clock.now();
  const nowIso = toIsoSeconds(now);
  const deadline = new Date(now.getTime() + SWEEP_DEADLINE_MS);

  const due = await deps.grants.listByStatus('active', { dueBy: nowIso });
  const nodes = nodesOncePer(deps);
  const outages = new Map<string, Outage>();
  const outage = (accountId: string, error: unknown): Outage => {
    let known = outages.get(accountId);
    if (!known) {
      known = { error: (error as Error).message, waiting: [] };
      outages.set(accountId, known);
    }
    return known;
  };
  // Every declared account (its reconciles), and any other a due grant was given in (a config since changed).
  const dueIn = new Map<string, Grant[]>(Object.keys(deps.config.aws.accounts).map((id) => [id, []]));
  for (const grant of due) {
    const accountId = placeOf(deps.config, grant).accountId;
    const grants = dueIn.get(accountId);
    if (grants) grants.push(grant);
    else dueIn.set(accountId, [grant]);
  }
  /** Grants whose turn this sweep is over, however it went (ended, not due after all, failed). */
  const done = new Set<string>();
  let deferred = 0;

  const endDue = async (accountId: string, grants: readonly Grant[]) => {
    await forEachBounded(grants, REVOKE_CONCURRENCY, async (listed) => {
      if (deps.clock.now().getTime() - now.getTime() >= REVOKE_BUDGET_MS) {
        deferred++;
        return;
      }
      const down = outages.get(accountId);
      try {
        const outcome = await endIfDue(deps, listed, nowIso, nodes, { reachable: down === undefined });
        if (outcome === 'ended') report.ended++;
        else if (outcome === 'waiting') down?.waiting.push(listed);
      } catch (error) {
        report.failures++;
        if (isAccountUnreachable(error)) {
          outage(accountId, error).waiting.push(listed);
          return;
        }
        const message = (error as Error).message;
        deps.logger.error({ grantId: listed.id, err: message }, 'revoke failed; the next sweep retries');
        await reportOverdueRevoke(deps, listed.id, now, message);
      } finally {
        done.add(listed.id);
      }
    });
  };

  const sweepAccount = async (accountId: string, grants: readonly Grant[]) => {
    await endDue(accountId, grants);
    const served = Object.hasOwn(deps.config.aws.accounts, accountId)
      ? deps.config.aws.accounts[accountId]
      : undefined;
    if (!served) return;
    if (outages.has(accountId)) {
      deps.logger.warn({ accountId }, 'account unreachable: its reconciles wait for the next sweep');
      return;
    }
    if (opts.reconcile) {
      try {
        await reconcile(deps, accountId);
      } catch (error) {
        report.failures++;
        if (isAccountUnreachable(error)) outage(accountId, error);
        deps.logger.error(
          { accountId, err: (error as Error).message },
          'reconciling IAM failed in this account; the next reconcile retries',
        );
        if (isAccountUnreachable(error)) return;
      }
    }
    // Each place's sessions on their own: one region's failure is logged inside, never another's.
    await Promise.all(
      served.regions.map(async (region) => {
        try {
          await reconcileSessions(deps, { deadline, place: { accountId, region } });
        } catch (error) {
          report.failures++;
          deps.logger.error(
            { accountId, region, err: (error as Error).message },
            'reconciling sessions failed in this place; the next sweep retries',
          );
        }
      }),
    );
  };

  const chores = async () => {
    report.warned = await warn(deps, now, deadline);
    report.lapsed = await lapse(deps, now);
    report.redriven = await redrive(deps, now);
  };

  const finished = new Set<string>();
  const work = Promise.allSettled([
    chores(),
    ...[...dueIn].map(async ([accountId, grants]) => {
      await sweepAccount(accountId, grants);
      finished.add(accountId);
    }),
  ]);
  const settled = await untilCutoff(work, opts.cutoff);

  if (deferred > 0) deps.logger.info({ deferred }, 'revokes left for the next sweep (time budget)');
  if (settled === 'cut-off') {
    // An account that has not answered by now: its grants whose turn is not over wait like an unreachable one's.
    for (const [accountId, grants] of dueIn) {
      if (finished.has(accountId)) continue;
      const waiting = grants.filter((g) => !done.has(g.id));
      deps.logger.warn({ accountId, waiting: waiting.length }, 'sweep cut off while this account worked');
      if (waiting.length === 0 || outages.has(accountId)) continue;
      outage(accountId, new Error('it did not answer before the sweep had to stop')).waiting.push(...waiting);
    }
  }
  const result: SweepReport = {
    ...report,
    ...(outages.size > 0 ? { unreachable: [...outages.keys()] } : {}),
  };
  await reportOutages(deps, outages, now);
  if (settled !== 'cut-off') {
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return result;
}

/** The settled work, or 'cut-off' when `cutoff` aborts first (the work goes on, unobserved but settled-safe). */
async function untilCutoff<T>(work: Promise<T>, cutoff: AbortSignal | undefined): Promise<T | 'cut-off'> {
  if (!cutoff) return work;
  if (cutoff.aborted) return 'cut-off';
  let stop = () => {};
  const cut = new Promise<'cut-off'>((resolve) => {
    stop = () => resolve('cut-off');
    cutoff.addEventListener('abort', stop, { once: true });
  });
  try {
    return await Promise.race([work, cut]);
  } finally {
    cutoff.removeEventListener('abort', stop);
  }
}

type DueOutcome = 'ended' | 'not-ended' | 'waiting';

async function endIfDue(
  deps: Deps,
  listed: Grant,
  nowIso: string,
  nodes: NodeLookup,
  opts: {
    /** False once its account failed as a whole this sweep: decide the ending (a store write), call nothing there. */
    reachable: boolean;
  },
): Promise<DueOutcome> {
  // A grant already ending is revoked from the listing itself (the index projects every attribute):
  // the lease is a conditional write on its version, so a stale listing only makes it 'busy'.
  let grant: Grant | undefined = listed;
  if (!listed.ending) {
    // Read afresh before deciding it is due: an extension applied since the listing moved its expiry.
    grant = await deps.grants.get(listed.id);
    if (grant?.status !== 'active') return 'not-ended';
  }
  if (grant.status !== 'active') return 'not-ended';
  if (!grant.ending) {
    if (!grant.expiresAt || grant.expiresAt > nowIso) return 'not-ended';
    // An approved extension not yet applied must win over the old expiry, or approved access is cut short.
    if (grant.extension?.state === 'approved') {
      if (!opts.reachable) return 'waiting';
      if ((await applyExtension(deps, grant.id)) === 'extended') return 'not-ended';
    }
    const ending = await requestEnding(
      deps,
      grant.id,
      { status: 'expired', by: 'keyturn' },
      { queueRevoke: false },
    );
    grant = ending.outcome === 'ending' ? ending.grant : await deps.grants.get(grant.id);
  }
  if (grant === undefined) return 'not-ended';
  if (!opts.reachable) return grant.status === 'active' ? 'waiting' : 'not-ended';
  return (await revokeGrant(deps, grant.id, { grant, nodes })) === 'ended' ? 'ended' : 'not-ended';
}

/**
 * Warnings go out a few at a time: each is a claim (one conditional write) and a DM, and a minute in
 * which thousands of grants expire puts all of them in the warning window of one sweep.
 */
const WARN_CONCURRENCY = 8;

/** One DM per expiry time: an extended grant is warned again before its new expiry. */
async function warn(deps: Deps, now: Date, deadline: Date): Promise<number> {
  const widest = Math.max(0, ...Object.values(deps.config.targets).map((t) => t.warnBeforeMinutes));
  const soon = await deps.grants.listByStatus('active', { dueBy: addMinutes(toIsoSeconds(now), widest) });
  let warned = 0;
  await forEachBounded(soon, WARN_CONCURRENCY, async (grant) => {
    // Past the deadline the rest wait for the next sweep, a minute later, still inside their window.
    if (deps.clock.now() >= deadline) return;
    const target = deps.config.targets[grant.target];
    if (!target || grant.ending || !grant.expiresAt) return;
    const left = Date.parse(grant.expiresAt) - now.getTime();
    if (left <= 0 || left > target.warnBeforeMinutes * 60_000) return;
    if (!(await deps.grants.claimEffect(grant.id, `warn:${grant.expiresAt}`, now.toISOString()))) return;
    await deps.chat.notify(grant.requester, { kind: 'warning', grant, target });
    warned++;
  });
  return warned;
}

async function lapse(deps: Deps, now: Date): Promise<number> {
  const shortest = Math.min(...Object.values(deps.config.targets).map((t) => t.approvalTimeoutMinutes));
  if (!Number.isFinite(shortest)) return 0;
  const candidates = await deps.grants.listByStatus('pending', {
    dueBy: addMinutes(toIsoSeconds(now), -shortest),
  });
  let lapsed = 0;
  for (const listed of candidates) {
    const grant = await deps.grants.get(listed.id);
    const target = grant ? deps.config.targets[grant.target] : undefined;
    if (grant?.status !== 'pending') continue;
    const timeout = target?.approvalTimeoutMinutes ?? shortest;
    if (Date.parse(grant.requestedAt) + timeout * 60_000 > now.getTime()) continue;
    const next = transition(grant, 'lapsed', {
      at: toIsoSeconds(now),
      by: 'keyturn',
      note: `nobody decided within ${timeout}m`,
    });
    if (!next.ok || (await deps.grants.save(next.value, grant.version)) === 'stale') continue;
    await deps.queue.enqueue(grantChanged(next.value));
    lapsed++;
  }
  return lapsed;
}

/** Approvals whose apply job never ran (a crash between the write and the enqueue) are queued again. */
async function redrive(deps: Deps, now: Date): Promise<number> {
  const stale = (iso: string | undefined) =>
    iso !== undefined && now.getTime() - Date.parse(iso) > STUCK_AFTER_MS;
  let redriven = 0;
  for (const grant of await deps.grants.listByStatus('approved')) {
    if (!stale(grant.decidedAt)) continue;
    await deps.queue.enqueue({ kind: 'apply-grant', grantId: grant.id });
    redriven++;
  }
  const withApprovedExtension = (g: Grant) =>
    g.extension?.state === 'approved' && stale(g.extension.decidedAt);
  for (const grant of (await deps.grants.listByStatus('active')).filter(withApprovedExtension)) {
    await deps.queue.enqueue({ kind: 'apply-extension', grantId: grant.id });
    redriven++;
  }
  return redriven;
}
