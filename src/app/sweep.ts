import { addMinutes, type Grant, toIsoSeconds, transition } from '../domain/grant';
import { forEachBounded } from './bounded';
import type { Deps } from './deps';
import { requestEnding } from './end-grant';
import { applyExtension } from './extend-grant';
import { grantChanged } from './grant-updates';
import { reconcile } from './reconcile';
import { reconcileSessions } from './reconcile-sessions';
import { type NodeLookup, nodesOncePer, revokeGrant } from './revoke-grant';

export interface SweepReport {
  ended: number;
  warned: number;
  lapsed: number;
  redriven: number;
  failures: number;
}

/**
 * IAM has no published rate and throttles (FACTS.md): revokes are bounded, each call retried by the
 * SDK with jittered backoff (standard mode, src/main/aws-clients.ts). A revoke spends most of its time
 * waiting on Session Manager (find, terminate, confirm), so more of them in flight than IAM alone
 * would bear: 1,000 expiring in one minute end within one sweep, 10,000 within four (BENCHMARKS.md, item 5).
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
/** An approved grant or extension not applied within this was lost between the write and its queued job. */
const STUCK_AFTER_MS = 2 * 60_000;

/**
 * Runs every minute (Lambda schedule, or a timer locally): ends grants that are due, warns before
 * expiry, lapses undecided requests, re-drives work whose queued job was lost, and, when asked,
 * reconciles IAM with the store. Safe to run twice at once and after a crash at any point.
 */
export async function sweep(deps: Deps, opts: { reconcile?: boolean } = {}): Promise<SweepReport> {
  const report: SweepReport = { ended: 0, warned: 0, lapsed: 0, redriven: 0, failures: 0 };
  const now = deps.clock.now();
  const nowIso = toIsoSeconds(now);

  const due = await deps.grants.listByStatus('active', { dueBy: nowIso });
  const nodes = nodesOncePer(deps);
  let deferred = 0;
  await forEachBounded(due, REVOKE_CONCURRENCY, async (listed) => {
    if (deps.clock.now().getTime() - now.getTime() >= REVOKE_BUDGET_MS) {
      deferred++;
      return;
    }
    try {
      if (await endIfDue(deps, listed, nowIso, nodes)) report.ended++;
    } catch (error) {
      report.failures++;
      const message = (error as Error).message;
      deps.logger.error({ grantId: listed.id, err: message }, 'revoke failed; the next sweep retries');
      await reportOverdueRevoke(deps, listed.id, now, message);
    }
  });

  if (deferred > 0) deps.logger.info({ deferred }, 'revokes left for the next sweep (time budget)');

  const deadline = new Date(now.getTime() + SWEEP_DEADLINE_MS);
  report.warned = await warn(deps, now, deadline);
  report.lapsed = await lapse(deps, now);
  report.redriven = await redrive(deps, now);
  if (opts.reconcile) await reconcile(deps);
  await reconcileSessions(deps, { deadline });
  return report;
}

async function endIfDue(deps: Deps, listed: Grant, nowIso: string, nodes: NodeLookup): Promise<boolean> {
  // A grant already ending is revoked from the listing itself (the index projects every attribute):
  // the lease is a conditional write on its version, so a stale listing only makes it 'busy'.
  let grant: Grant | undefined = listed;
  if (!listed.ending) {
    // Read afresh before deciding it is due: an extension applied since the listing moved its expiry.
    grant = await deps.grants.get(listed.id);
    if (grant?.status !== 'active') return false;
  }
  if (grant.status !== 'active') return false;
  if (!grant.ending) {
    if (!grant.expiresAt || grant.expiresAt > nowIso) return false;
    // An approved extension not yet applied must win over the old expiry, or approved access is cut short.
    if (grant.extension?.state === 'approved' && (await applyExtension(deps, grant.id)) === 'extended')
      return false;
    const ending = await requestEnding(
      deps,
      grant.id,
      { status: 'expired', by: 'keyturn' },
      { queueRevoke: false },
    );
    grant = ending.outcome === 'ending' ? ending.grant : await deps.grants.get(grant.id);
  }
  return grant !== undefined && (await revokeGrant(deps, grant.id, { grant, nodes })) === 'ended';
}

/**
 * A revoke that keeps failing (IAM down, a permission removed) is a human's problem: once a grant is
 * more than REPORT_AFTER_MS past due, the audit channel hears of it, once. Access has still ended at
 * the policy's own expiry; what is at stake is the policy left attached.
 */
async function reportOverdueRevoke(deps: Deps, grantId: string, now: Date, error: string): Promise<void> {
  const grant = await deps.grants.get(grantId);
  const due = grant?.ending?.at ?? grant?.expiresAt;
  if (!grant || !due || now.getTime() - Date.parse(due) < REPORT_AFTER_MS) return;
  if (!(await deps.grants.claimEffect(grant.id, 'audit:revoke-failed', now.toISOString()))) return;
  await deps.anomalies.record({
    kind: 'revoke-failed',
    at: now.toISOString(),
    grantId: grant.id,
    requester: grant.requester,
    target: grant.target,
    error,
  });
  await deps.chat.postAudit(deps.config.slack.auditChannel, { kind: 'revoke-failed', grant, error });
}

/** Long enough that the SDK's retries and a few sweeps have had their chance. */
const REPORT_AFTER_MS = 5 * 60_000;

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
