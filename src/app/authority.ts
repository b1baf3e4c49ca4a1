import type { ApproverGroups, AuthorityContext } from '../domain/grant-authority';
import type { Grant } from '../domain/grant';
import { isUserGroupId, type Target } from '../domain/target';
import type { Deps } from './deps';
import { grantPolicyArn } from './grant-policy';

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

/** What a grant is judged against: the configuration as loaded, and its target's approver groups now. */
export async function grantAuthorityContext(
  deps: Pick<Deps, 'config' | 'chat' | 'logger'>,
  grant: Grant,
): Promise<AuthorityContext> {
  const { config } = deps;
  return {
    people: config.people,
    targets: config.targets,
    groups: await approverGroups(deps, config.targets[grant.target]),
    policyArn: grantPolicyArn(config.aws.accountId, grant.id),
  };
}
