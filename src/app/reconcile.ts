import { POLICY_PATH, policyName } from '../domain/policy';
import type { Deps } from './deps';
import { requestEnding } from './end-grant';
import { revokeGrant } from './revoke-grant';
import { placeOf } from './places';

/**
 * IAM listings are eventually consistent: a policy created or a grant activated moments ago may not
 * show yet. Only grants and policies older than this are judged.
 */
const SETTLE_MS = 15 * 60_000;

export interface ReconcileReport {
  orphansRemoved: string[];
  missingPolicies: string[];
}

/**
 * Makes IAM and the store agree. A `/keyturn/` policy that no approved or active grant explains is
 * an orphan (a crash, a hand-made policy): detached from everyone, deleted, reported. An active
 * grant whose policy is gone is ended as failed and reported. Policies outside `/keyturn/` are never
 * listed, so never touched.
 */
export async function reconcile(
  deps: Deps,
  /** The account whose `/keyturn/` policies are read (default: Keyturn's own); grants elsewhere are not judged. */
  accountId: string = deps.config.aws.accountId,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { orphansRemoved: [], missingPolicies: [] };
  const access = deps.aws.access(accountId);
  const now = deps.clock.now();
  const settled = (iso: string | undefined) =>
    iso !== undefined && now.getTime() - Date.parse(iso) > SETTLE_MS;
  const policies = await access.listPolicies(POLICY_PATH);

  for (const policy of policies) {
    const grantId = policy.name.startsWith(policyName(''))
      ? policy.name.slice(policyName('').length)
      : undefined;
    const named = grantId ? await deps.grants.get(grantId) : undefined;
    // A grant explains its policy in its own account only: one named for it anywhere else is an orphan.
    const grant = named && placeOf(deps.config, named).accountId === accountId ? named : undefined;
    if (grant && (grant.status === 'approved' || grant.status === 'active')) continue;
    // A grant that failed moments ago is still being cleaned up by its own worker.
    if (grant?.status === 'failed' && !settled(grant.history.at(-1)?.at)) continue;
    const detachedFrom = await access.detachFromAll(policy.arn);
    const deleted = await access.deletePolicy(policy.arn);
    // Two sweepers may reconcile at once: a run that neither detached nor deleted anything reports nothing.
    if (deleted === 'already-gone' && detachedFrom.length === 0) continue;
    report.orphansRemoved.push(policy.arn);
    await deps.anomalies.record({
      kind: 'orphan-policy-removed',
      at: now.toISOString(),
      policyArn: policy.arn,
      ...(grantId ? { grantId } : {}),
      detachedFrom,
    });
    await deps.chat.postAudit(deps.config.slack.auditChannel, {
      kind: 'orphan-policy-removed',
      policyArn: policy.arn,
      ...(grantId ? { grantId } : {}),
      detachedFrom,
    });
  }

  const present = new Set(policies.map((p) => p.arn));
  for (const grant of await deps.grants.listByStatus('active')) {
    const activatedAt = grant.history.find((h) => h.to === 'active' && h.from === 'approved')?.at;
    if (placeOf(deps.config, grant).accountId !== accountId) continue;
    if (grant.ending || !grant.policyArn || present.has(grant.policyArn) || !settled(activatedAt)) continue;
    const ended = await requestEnding(
      deps,
      grant.id,
      {
        status: 'failed',
        by: 'keyturn',
        reason: 'its IAM policy was removed outside Keyturn',
      },
      { queueRevoke: false },
    );
    if (ended.outcome !== 'ending' || ended.already) continue;
    report.missingPolicies.push(grant.id);
    await deps.chat.postAudit(deps.config.slack.auditChannel, { kind: 'policy-missing', grant: ended.grant });
    await revokeGrant(deps, grant.id);
  }
  return report;
}
