import type { Grant } from '../domain/grant';
import type { ApproverGroups, AuthorityContext } from '../domain/grant-authority';
import { isUserGroupId, type Target } from '../domain/target';
import type { Deps } from './deps';
import { policyArnOfGrant } from './grant-policy';

const NO_GROUPS: ApproverGroups = { members: new Map(), unresolved: new Set() };

/**
 * Runs an authority check, resolving the target's approver user groups only when the answer depends
 * on them: an approval by a directly listed approver costs no Slack call on the way to IAM.
 */
export async function judgeWithGroups<
  D extends { outcome: string; reason?: string; notApprovers?: string[] },
>(
  deps: Pick<Deps, 'chat' | 'logger'>,
  target: Target | undefined,
  judge: (groups: ApproverGroups) => D,
): Promise<D> {
  const first = judge(NO_GROUPS);
  const mayDependOnGroups =
    first.reason === 'too-few-approvals' &&
    (first.notApprovers?.length ?? 0) > 0 &&
    (target?.approvers.some(isUserGroupId) ?? false);
  return mayDependOnGroups ? judge(await approverGroups(deps, target)) : first;
}

/**
 * Members of each user group among the target's approvers, through the same cached Chat port the
 * approve buttons use. A group Slack cannot answer for is reported as unresolved, never as empty or
 * as "everyone": the authority checks then fail closed.
 */
export async function approverGroups(
  deps: Pick<Deps, 'chat' | 'logger'>,
  target: Target | undefined,
): Promise<ApproverGroups> {
  const members = new Map<string, readonly string[]>();
  const unresolved = new Set<string>();
  for (const id of target?.approvers.filter(isUserGroupId) ?? []) {
    try {
      members.set(id, await deps.chat.userGroupMembers(id));
    } catch (error) {
      unresolved.add(id);
      deps.logger.warn({ group: id, err: (error as Error).message }, 'approver group could not be resolved');
    }
  }
  return { members, unresolved };
}

/** What a grant is judged against: the configuration as loaded now, and its target's approver groups. */
export function grantAuthorityContext(
  deps: Pick<Deps, 'config'>,
  grant: Grant,
  groups: ApproverGroups,
): AuthorityContext {
  const { config } = deps;
  return {
    people: config.people,
    targets: config.targets,
    groups,
    policyArn: policyArnOfGrant(config.aws, grant),
    home: { accountId: config.aws.accountId, region: config.aws.region },
  };
}

/**
 * A grant the worker will not apply or extend because it does not hold up: logged, and the audit
 * channel told why, so a forged or outdated approval is seen by people and not only refused.
 */
export async function reportRefusal(
  deps: Pick<Deps, 'config' | 'chat' | 'logger'>,
  grant: Grant,
  step: 'apply' | 'extension',
  reason: string,
): Promise<void> {
  deps.logger.warn(
    { grantId: grant.id, reason },
    `refused to ${step === 'apply' ? 'apply' : 'extend'} a grant that does not hold up`,
  );
  await deps.chat.postAudit(deps.config.slack.auditChannel, { kind: 'grant-refused', grant, step, reason });
}
