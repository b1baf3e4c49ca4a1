import { transitionlessUpdate } from './grant-updates';
import type { Deps } from './deps';

/**
 * Worker job after a request: look up the nodes (an SSM call, so not on the ack path) and post the
 * approval card once. The card reference is stored with a conditional write like any other change.
 */
export async function postRequestCard(
  deps: Pick<Deps, 'config' | 'grants' | 'fleet' | 'chat' | 'clock'>,
  grantId: string,
): Promise<void> {
  const grant = await deps.grants.get(grantId);
  const target = grant ? deps.config.targets[grant.target] : undefined;
  if (!grant || !target || grant.card) return;
  if (!(await deps.grants.claimEffect(grant.id, 'card', deps.clock.now().toISOString()))) return;

  const nodes = await deps.fleet.nodesTagged(target.tags);
  const card = await deps.chat.postRequestCard(deps.config.slack.requestsChannel, { grant, target, nodes });
  const saved = await transitionlessUpdate(deps.grants, grant.id, (g) =>
    g.card ? undefined : { ...g, card },
  );
  // A decision can land between posting and storing the reference; its card update found no card, so redo it.
  if (saved && saved.status !== 'pending')
    await deps.chat.updateRequestCard(card, { grant: saved, target, nodes });
}
