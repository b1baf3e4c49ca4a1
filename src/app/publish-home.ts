import type { Grant } from '../domain/grant';
import type { ManagedNode } from '../domain/node';
import { isUserGroupId } from '../domain/target';
import type { HomeView } from '../ports/chat';
import { isApprover } from './approval-click';
import type { Deps } from './deps';
import { nodesToShow, targetFleet } from './places';

type HomeDeps = Pick<Deps, 'config' | 'grants' | 'aws' | 'chat' | 'logger'>;

/** Items per list on the Home tab: a Home view holds at most 100 blocks; `/access list` has the rest. */
export const HOME_LIST_CAP = 15;

/**
 * What `user`'s App Home shows: their own grants through the byRequester index, and for approvers
 * the pending and active grants (with their pending extensions) through the byStatus index (no Scan).
 */
export async function homeView(deps: HomeDeps, user: string): Promise<HomeView> {
  const mine = await deps.grants.listByRequester(user);
  const active = mine.filter((g) => g.status === 'active' && !g.ending);
  const pending = mine.filter((g) => g.status === 'pending');

  const approving = new Set<string>();
  for (const target of Object.values(deps.config.targets)) {
    if (await isApprover(deps, target, user)) approving.add(target.name);
  }
  const onMine = (g: Grant) => approving.has(g.target) && g.requester !== user;
  // An approver who may self-approve sees their own request (or extension) here too.
  const mayDecide = (g: Grant) =>
    approving.has(g.target) &&
    (onMine(g) || (g.requester === user && deps.config.targets[g.target]?.selfApproval === true));
  const waitingForMe =
    approving.size === 0
      ? []
      : (await deps.grants.listByStatus('pending')).filter(
          (g) => mayDecide(g) && !g.approvals.some((a) => a.by === user),
        );
  // An extension waits on a grant that is still active, so the same byStatus query finds both lists.
  const activeGrants = approving.size === 0 ? [] : await deps.grants.listByStatus('active');
  const extensionsWaitingForMe = activeGrants.filter(
    (g) =>
      !g.ending &&
      g.extension?.state === 'pending' &&
      mayDecide(g) &&
      !g.extension.approvals.some((a) => a.by === user),
  );
  const activeOnMyTargets = activeGrants.filter((g) => onMine(g) && !g.ending);

  const nodes: Record<string, readonly ManagedNode[]> = {};
  for (const name of new Set(active.slice(0, HOME_LIST_CAP).map((g) => g.target))) {
    const target = deps.config.targets[name];
    if (target) nodes[name] = await nodesToShow(deps, targetFleet(deps, target), target.tags);
  }
  return {
    user,
    active: newestFirst(active),
    pending: newestFirst(pending),
    waitingForMe: newestFirst(waitingForMe),
    extensionsWaitingForMe: [...extensionsWaitingForMe].sort((a, b) =>
      (b.extension?.requestedAt ?? '').localeCompare(a.extension?.requestedAt ?? ''),
    ),
    activeOnMyTargets: newestFirst(activeOnMyTargets),
    targets: deps.config.targets,
    nodes,
  };
}

function newestFirst(grants: readonly Grant[]): Grant[] {
  return [...grants].sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}

/** Worker job (and the app_home_opened event's): render and publish one person's Home tab. */
export async function publishHome(deps: HomeDeps, user: string): Promise<void> {
  await deps.chat.publishHome(user, await homeView(deps, user));
}

/**
 * After a grant moves: republish the Home tab of everyone it shows on, the requester and the
 * target's approvers (user groups expanded). A failure is logged, never thrown: the move is done.
 */
export async function republishHomes(
  deps: HomeDeps & Pick<Deps, 'logger'>,
  grant: Pick<Grant, 'id' | 'requester' | 'target'>,
): Promise<void> {
  const users = new Set([grant.requester]);
  try {
    for (const id of deps.config.targets[grant.target]?.approvers ?? []) {
      if (!isUserGroupId(id)) users.add(id);
      else for (const member of await deps.chat.userGroupMembers(id)) users.add(member);
    }
    for (const user of users) await publishHome(deps, user);
  } catch (error) {
    deps.logger.warn(
      { grantId: grant.id, err: error instanceof Error ? error.message : String(error) },
      'App Home not republished',
    );
  }
}
