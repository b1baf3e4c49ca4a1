import type { Grant } from '../domain/grant';
import { forEachBounded } from './bounded';
import type { Deps } from './deps';

/*
 * Revokes that keep failing are a human's problem, reported to the audit channel once per grant:
 * a single grant's (IAM refusing it) in a message of its own, an account's that cannot be reached
 * at all in one message per sweep for all of its grants.
 */

/** An account whose ports fail as a whole this sweep, and its due grants left waiting. */
export interface Outage {
  error: string;
  waiting: Grant[];
}

/** When a grant was due to end: its ending, or its expiry. */
const dueAt = (grant: Grant): string | undefined => grant.ending?.at ?? grant.expiresAt;

/**
 * A revoke that keeps failing (IAM down, a permission removed) is a human's problem: once a grant is
 * more than REPORT_AFTER_MS past due, the audit channel hears of it, once. Access has still ended at
 * the policy's own expiry; what is at stake is the policy left attached.
 */
export async function reportOverdueRevoke(
  deps: Deps,
  grantId: string,
  now: Date,
  error: string,
): Promise<void> {
  const grant = await deps.grants.get(grantId);
  const due = grant && dueAt(grant);
  if (!grant || !due || now.getTime() - Date.parse(due) < REPORT_AFTER_MS) return;
  if (!(await deps.grants.claimEffect(grant.id, 'audit:revoke-failed', now.toISOString()))) return;
  await deps.anomalies.record(revokeFailed(grant, now, error));
  await deps.chat.postAudit(deps.config.slack.auditChannel, { kind: 'revoke-failed', grant, error });
}

function revokeFailed(grant: Grant, now: Date, error: string) {
  return {
    kind: 'revoke-failed' as const,
    at: now.toISOString(),
    grantId: grant.id,
    requester: grant.requester,
    target: grant.target,
    error,
  };
}

/** Claims a few at a time: an account down with a thousand grants due must not take the sweep's time. */
const CLAIM_CONCURRENCY = 16;

/**
 * Accounts that failed as a whole: logged once each per sweep; each of their grants more than
 * REPORT_AFTER_MS past due is claimed once (the same claim as a single failing revoke's, so it is
 * never reported twice) and recorded for the digest; the newly claimed ones go to the audit channel in
 * one message, so an outage of an hour is one line per grant, not one per grant per minute.
 */
export async function reportOutages(
  deps: Deps,
  outages: ReadonlyMap<string, Outage>,
  now: Date,
): Promise<void> {
  const accounts: { accountId: string; alias?: string; error: string; grants: Grant[] }[] = [];
  for (const [accountId, outage] of outages) {
    deps.logger.error(
      { accountId, waiting: outage.waiting.length, err: outage.error },
      'account unreachable: its due grants stay ending and the next sweep retries',
    );
    const overdue = outage.waiting.filter((g) => {
      const due = dueAt(g);
      return due !== undefined && now.getTime() - Date.parse(due) >= REPORT_AFTER_MS;
    });
    const claimed: Grant[] = [];
    await forEachBounded(overdue, CLAIM_CONCURRENCY, async (grant) => {
      if (!(await deps.grants.claimEffect(grant.id, 'audit:revoke-failed', now.toISOString()))) return;
      claimed.push(grant);
      await deps.anomalies.record(revokeFailed(grant, now, outage.error));
    });
    if (claimed.length === 0) continue;
    const served = Object.hasOwn(deps.config.aws.accounts, accountId)
      ? deps.config.aws.accounts[accountId]
      : undefined;
    claimed.sort((a, b) => (dueAt(a) ?? '').localeCompare(dueAt(b) ?? '') || a.id.localeCompare(b.id));
    accounts.push({
      accountId,
      ...(served?.alias === undefined ? {} : { alias: served.alias }),
      error: outage.error,
      grants: claimed,
    });
  }
  if (accounts.length === 0) return;
  await deps.chat.postAudit(deps.config.slack.auditChannel, { kind: 'accounts-unreachable', accounts });
}

/** Long enough that the SDK's retries and a few sweeps have had their chance. */
const REPORT_AFTER_MS = 5 * 60_000;
