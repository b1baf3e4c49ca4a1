import { type Grant, isOpen, toIsoSeconds, transition } from '../domain/grant';
import { checkGrantAuthority, describeAuthorityRefusal } from '../domain/grant-authority';
import { nodeArn } from '../domain/node';
import { type AwsAccount, describePrincipal, type Principal, principalArn } from '../domain/principal';
import { POLICY_PATH, policyName } from '../domain/policy';
import type { Target } from '../domain/target';
import { grantAuthorityContext, judgeWithGroups, reportRefusal } from './authority';
import { AccessControlError } from '../ports/access-control';
import { answer, decideAndSave, type SaveStep, saveThen } from './decide-and-save';
import type { Deps } from './deps';
import { grantChanged } from './grant-updates';
import { describePolicyError, grantPolicy, policyArnOfGrant } from './grant-policy';
import { accessFor, accountOf, placeOf, regionalAccountOf } from './places';
import { clearRunAsUnlessNeeded } from './run-as';

export type ApplyOutcome = 'activated' | 'failed' | 'skipped';

const DEFAULT_READINESS = { maxWaitMs: 60_000, firstDelayMs: 1_000 };

/**
 * Worker job for an approved grant: create the policy, attach it, wait until IAM itself answers
 * "allowed", then mark the grant active. Each step is safe to repeat, so a redelivered job or a
 * second worker converges on one policy; only the worker whose conditional write wins announces it.
 */
export async function applyGrant(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'aws' | 'chat' | 'clock' | 'logger' | 'readiness'>,
  grantId: string,
): Promise<ApplyOutcome> {
  const grant = await deps.grants.get(grantId);
  if (!grant) return 'skipped';
  const policyArn = policyArnOfGrant(deps.config.aws, grant);
  // A failed grant's clean-up is repeated on redelivery: it is idempotent and is what leaves nothing behind.
  if (grant.status === 'failed') {
    // Announcing is idempotent (one DM per step), so it goes first: a clean-up that cannot reach the
    // account (throws, the job is retried) must not keep the requester from hearing the grant failed.
    await deps.queue.enqueue(grantChanged(grant));
    await compensate(deps, grant, policyArn);
    return 'skipped';
  }
  if (grant.status !== 'approved') return 'skipped';

  const target = deps.config.targets[grant.target];
  if (!target)
    return fail(deps, grant, policyArn, `target ${grant.target} is no longer in the configuration`);
  // The stored grant is not evidence enough (issue 11): derive the decision again before any IAM call.
  const authority = await judgeWithGroups(deps, target, (groups) =>
    checkGrantAuthority(grant, grantAuthorityContext(deps, grant, groups)),
  );
  if (authority.outcome === 'refuse') return refuse(deps, grant, describeAuthorityRefusal(authority));
  // Checked by the authority above; kept so the window's type is known below.
  if (!grant.startsAt || !grant.expiresAt) return refuse(deps, grant, 'the grant has no approved window');

  const rendered = grantPolicy(
    deps.config,
    { ...grant, startsAt: grant.startsAt, expiresAt: grant.expiresAt },
    target,
  );
  if (!rendered.ok) return fail(deps, grant, policyArn, describePolicyError(rendered.error));

  // What was being done when AWS refused, for the reason people read (AWS's own words go to the log only).
  let step = 'check the access role can take the grant';
  try {
    const refusal = await admissionProblem(deps, grant, target, policyArn);
    if (refusal) return fail(deps, grant, policyArn, refusal);
    const access = accessFor(deps, grant);
    step = 'create the grant policy';
    const created = await access.createPolicy({
      name: policyName(grant.id),
      path: POLICY_PATH,
      description: `Keyturn grant ${grant.id}: ${grant.target} for ${grant.requester} until ${grant.expiresAt}`,
      document: rendered.value,
      tags: { 'keyturn:grant': grant.id, 'keyturn:target': grant.target },
    });
    step = `attach the grant policy to ${describePrincipal(grant.principal)}`;
    await access.attachPolicy(grant.principal, created.arn);
    step = `tag ${describePrincipal(grant.principal)} ${RUN_AS_TAG}=${target.runAs}`;
    if (target.runAs) await access.setRunAs(grant.principal, target.runAs);
    step = 'check the access is in effect';
    const notReady = await waitUntilAllowed(deps, grant, target);
    if (notReady !== undefined) return fail(deps, grant, policyArn, notReady);
  } catch (error) {
    deps.logger.error({ grantId: grant.id, err: describeError(error) }, 'applying grant failed');
    return fail(deps, grant, policyArn, refusedStep(step, error));
  }

  return decideAndSave(
    deps.grants,
    grant.id,
    async (latest): Promise<SaveStep<Grant, ApplyOutcome>> => {
      // Still approved: only bookkeeping (e.g. the card reference) moved the version, so activate on top of it.
      if (latest?.status !== 'approved') return answer(await lostRace(deps, grant, policyArn));
      const next = transition(latest, 'active', {
        at: toIsoSeconds(deps.clock.now()),
        by: 'keyturn',
        set: { policyArn, ...(target.runAs ? { runAsSet: target.runAs } : {}) },
      });
      if (!next.ok) return answer<ApplyOutcome>('skipped');
      return saveThen(next.value, async (saved): Promise<ApplyOutcome> => {
        await deps.queue.enqueue(grantChanged(saved));
        return 'activated';
      });
    },
    { attempts: 5, exhausted: () => 'skipped', current: grant },
  );
}

/**
 * Checks IAM would take the grant, before anything is created: the principal's managed-policy quota
 * (10 by default; an attach over it fails with LimitExceeded) and the one Run As tag a principal can carry.
 */
async function admissionProblem(
  deps: Pick<Deps, 'config' | 'grants' | 'aws'>,
  grant: Grant,
  target: Target,
  policyArn: string,
): Promise<string | undefined> {
  // The SSMSessionRunAs tag is the principal's, so it covers every session of it: a grant without
  // runAs beside one with it would have its sessions run as that user (or lose it, once tagged).
  const as = (user: string | undefined) => (user ? `as ${user}` : "as Session Manager's default user");
  const clash = (await deps.grants.listByStatus('active')).find(
    (g) => sameRole(deps, g, grant) && !g.ending && g.runAsSet !== target.runAs,
  );
  if (clash)
    return `${describePrincipal(grant.principal)} already has sessions running ${as(clash.runAsSet)} under grant ${clash.id}, and this target's run ${as(target.runAs)}; Session Manager allows one Run As user per principal, so end that grant first`;
  // Two such grants approved together would each find no active one and tag in turn, the last tag
  // deciding whose sessions run as whom: the one approved first goes ahead, the other is refused.
  // Their Run As users come from the config: with none configured, none can differ (and no read).
  const runAsConfigured = Object.values(deps.config.targets).some((t) => t.runAs !== undefined);
  const earlier = (runAsConfigured ? await deps.grants.listByStatus('approved') : []).find(
    (g) =>
      g.id !== grant.id &&
      sameRole(deps, g, grant) &&
      deps.config.targets[g.target]?.runAs !== target.runAs &&
      approvedBefore(g, grant),
  );
  if (earlier)
    return `${describePrincipal(grant.principal)} is being given grant ${earlier.id}, approved first, whose sessions run ${as(deps.config.targets[earlier.target]?.runAs)}, and this target's run ${as(target.runAs)}; Session Manager allows one Run As user per principal, so request again once that grant has ended`;
  const { attached, quota } = await accessFor(deps, grant).attachedPolicyQuota(grant.principal);
  // A retried apply finds its own policy attached: that is not one too many.
  if (!attached.includes(policyArn) && attached.length >= quota)
    return `${describePrincipal(grant.principal)} already has ${attached.length} managed policies attached, the account's limit of ${quota}; detach one (or raise the quota) and request again`;
  return undefined;
}

/** Approval order, the grant id breaking a tie: exactly one of two grants comes first. */
function approvedBefore(a: Grant, b: Grant): boolean {
  const [at, bt] = [a.decidedAt ?? a.requestedAt, b.decidedAt ?? b.requestedAt];
  return at < bt || (at === bt && a.id < b.id);
}

/** The same IAM entity: same principal in the same account (each account has its own access roles). */
function sameRole(deps: Pick<Deps, 'config'>, a: Grant, b: Grant): boolean {
  return (
    placeOf(deps.config, a).accountId === placeOf(deps.config, b).accountId &&
    a.principal.kind === b.principal.kind &&
    a.principal.name === b.principal.name
  );
}

export { grantPolicyArn } from './grant-policy';

/**
 * Polls iam:SimulatePrincipalPolicy with backoff: IAM is eventually consistent with no published delay.
 * Returns undefined once IAM answers "allowed", otherwise why the grant cannot go ahead. A transient
 * failure of the check itself (throttling, a 5xx, the network) is one more "not yet"; a persistent one
 * ends the wait with what the operator must fix, never IAM's raw text.
 */
async function waitUntilAllowed(
  deps: Pick<Deps, 'config' | 'aws' | 'clock' | 'readiness' | 'logger'>,
  grant: Grant,
  target: Target,
): Promise<string | undefined> {
  const { maxWaitMs, firstDelayMs } = deps.readiness ?? DEFAULT_READINESS;
  // Any node carrying the tags proves the policy; a placeholder id avoids an SSM call on this path.
  const probe = nodeArn(regionalAccountOf(deps.config, grant), 'mi-00000000000000000');
  const access = accessFor(deps, grant);
  let waited = 0;
  let delay = firstDelayMs;
  for (;;) {
    const at = toIsoSeconds(deps.clock.now());
    let failedWith: string | undefined;
    try {
      if (await access.canStartSession(grant.principal, { nodeArn: probe, tags: target.tags, at }))
        return undefined;
    } catch (error) {
      deps.logger.warn({ grantId: grant.id, err: describeError(error) }, 'readiness check failed');
      if (!(error instanceof AccessControlError && error.transient))
        return readinessProblem(accountOf(deps.config, grant), grant.principal, error);
      failedWith = error.code;
    }
    if (waited >= maxWaitMs)
      return `IAM did not report the access as in effect within the time allowed${failedWith ? ` (the last check failed with ${failedWith})` : ''}`;
    const pause = Math.min(delay, maxWaitMs - waited);
    await deps.clock.sleep(pause);
    waited += pause;
    delay = Math.min(delay * 2, 8_000);
  }
}

/** What the operator must fix when IAM will not simulate the principal's policies, in a sentence with IAM's code. */
function readinessProblem(account: AwsAccount, principal: Principal, error: unknown): string {
  const who = describePrincipal(principal);
  const arn = principalArn(account, principal);
  const code = error instanceof AccessControlError ? error.code : 'an unexpected error';
  switch (code) {
    case 'AccessDenied':
      return `Keyturn's role may not call iam:SimulatePrincipalPolicy on ${who} (AccessDenied: an SCP, a permissions boundary or the role's own policy denies it), so it cannot check that the access is in effect; allow iam:SimulatePrincipalPolicy on ${arn} for Keyturn's role`;
    case 'InvalidInput':
      return `IAM could not evaluate the policies of ${who} (InvalidInput) as ${arn}; check that this ARN names it (partition, account, path) under people and aws in keyturn.yml`;
    case 'NoSuchEntity':
      return principal.kind === 'access-role'
        ? `IAM has no access role ${arn} (NoSuchEntity): access roles are created when Keyturn is deployed, so deploy again after adding a person under people`
        : `IAM has no principal ${arn} (NoSuchEntity), which is how Keyturn names ${who}; map an existing user or role under people`;
    default:
      return `IAM could not check that the access is in effect: SimulatePrincipalPolicy failed with ${code}; Keyturn's log has IAM's answer`;
  }
}

async function fail(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'aws' | 'clock' | 'logger'>,
  grant: Grant,
  policyArn: string,
  why: string,
): Promise<ApplyOutcome> {
  const next = failedBecause(grant, why, toIsoSeconds(deps.clock.now()));
  // Only the worker that records the failure cleans up: a concurrent worker may have activated the grant.
  if (!next.ok) return 'skipped';
  if ((await deps.grants.save(next.value, grant.version)) === 'stale')
    return lostRace(deps, grant, policyArn);
  // Told first, as above: the clean-up may throw (an unreachable account) and be retried by the queue.
  await deps.queue.enqueue(grantChanged(next.value));
  await compensate(deps, next.value, policyArn);
  return 'failed';
}

/** The grant failed, and why: the reason is both on the record and in its history. */
function failedBecause(grant: Grant, why: string, at: string) {
  return transition(grant, 'failed', { at, by: 'keyturn', note: why, set: { failureReason: why } });
}

/**
 * The grant does not hold up against the configuration and its own history: fail it in one
 * conditional write and tell the audit channel, making no IAM call at all. Nothing of it was created
 * by this worker; a policy left by an earlier attempt under another configuration is removed by the
 * redelivered job's clean-up of a failed grant, or by the orphan-policy reconcile.
 */
async function refuse(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'chat' | 'clock' | 'logger'>,
  grant: Grant,
  reason: string,
): Promise<ApplyOutcome> {
  const why = `refused by the worker: ${reason}`;
  return decideAndSave(
    deps.grants,
    grant.id,
    (latest): SaveStep<Grant, ApplyOutcome> => {
      // Only bookkeeping (e.g. the card reference) can have moved an approved grant's version.
      if (latest?.status !== 'approved') return answer<ApplyOutcome>('skipped');
      const next = failedBecause(latest, why, toIsoSeconds(deps.clock.now()));
      if (!next.ok) return answer<ApplyOutcome>('skipped');
      return saveThen(next.value, async (saved): Promise<ApplyOutcome> => {
        await reportRefusal(deps, saved, 'apply', reason);
        await deps.queue.enqueue(grantChanged(saved));
        return 'failed';
      });
    },
    { attempts: 5, exhausted: () => 'skipped', current: grant },
  );
}

/**
 * Another worker wrote first. If it closed the grant (failed it), its clean-up may have run between this
 * worker's read and its create/attach, leaving a policy on a failed grant: clean up again. An active grant
 * keeps the policy, which is the same one (same name) this worker attached.
 */
async function lostRace(
  deps: Pick<Deps, 'config' | 'grants' | 'aws' | 'logger'>,
  grant: Grant,
  policyArn: string,
): Promise<ApplyOutcome> {
  const current = await deps.grants.get(grant.id);
  if (current && !isOpen(current.status)) await compensate(deps, current, policyArn);
  return 'skipped';
}

/** Detach, then delete: IAM refuses to delete an attached policy. Both report "already gone" as success. */
async function compensate(
  deps: Pick<Deps, 'config' | 'grants' | 'aws' | 'logger'>,
  grant: Grant,
  policyArn: string,
): Promise<void> {
  const access = accessFor(deps, grant);
  await access.detachPolicy(grant.principal, policyArn);
  await access.deletePolicy(policyArn);
  const runAs = deps.config.targets[grant.target]?.runAs;
  if (runAs) await clearRunAsUnlessNeeded(deps, { ...grant, runAsSet: runAs });
  deps.logger.info({ grantId: grant.id, policyArn }, 'removed what the failed grant created');
}

const RUN_AS_TAG = 'SSMSessionRunAs';

/**
 * Why the grant failed, in Keyturn's words: the step, AWS's error code and what it usually means. The
 * SDK's message (request ids, ARNs, quota names) stays in the log, so a DM or audit line never carries it.
 */
function refusedStep(step: string, error: unknown): string {
  const code = error instanceof AccessControlError ? error.code : undefined;
  const what = `AWS refused a step: Keyturn could not ${step}`;
  switch (code) {
    case undefined:
      return `${what} (an unexpected error); Keyturn's log has the details`;
    case 'AccountUnreachable':
      // Keyturn's own sentence (src/adapters/aws/assumed-role-credentials.ts): which role, what to check.
      return `${what}: ${(error as Error).message}`;
    case 'LimitExceeded':
      return `${what} (LimitExceeded: an IAM quota is reached, such as managed policies per role); Keyturn's log has IAM's answer`;
    case 'AccessDenied':
      return `${what} (AccessDenied: Keyturn's role, an SCP or a permissions boundary does not allow it); Keyturn's log has IAM's answer`;
    default:
      return `${what} (${code}${error instanceof AccessControlError && error.transient ? ', which may pass: request again' : ''}); Keyturn's log has IAM's answer`;
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error)
    return 'code' in error && typeof error.code === 'string'
      ? `${error.code}: ${error.message}`
      : error.message;
  return String(error);
}
