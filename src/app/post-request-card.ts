import { auditGrantStep } from './audit';
import type { Deps } from './deps';
import { transitionlessUpdate } from './grant-updates';
import { republishHomes } from './publish-home';
import { fleetFor, nodesToShow } from './places';

/**
 * Worker job after a request: look up the nodes (an SSM call, so not on the ack path) and post the
 * approval card once. The card reference is stored with a conditional write like any other change.
 */
export async function postRequestCard(
  deps: Pick<Deps, 'config' | 'grants' | 'aws' | 'chat' | 'clock' | 'logger'>,
  grantId: string,
): Promise<void> {
  const grant = await deps.grants.get(grantId);
  const target = grant ? deps.config.targets[grant.target] : undefined;
  if (!grant || !target || grant.card) return;
  // Looked up before the claim: a lookup that throws after it would leave the card claimed and never posted.
  const nodes = await nodesToShow(deps, fleetFor(deps, grant), target.tags);
  if (!(await deps.grants.claimEffect(grant.id, 'card', deps.clock.now().toISOString()))) return;
  const card = await deps.chat.postRequestCard(deps.config.slack.requestsChannel, { grant, target, nodes });
  const saved = await transitionlessUpdate(deps.grants, grant.id, (g) =>
    g.card ? undefined : { ...g, card },
  );
  // The request's audit line waits for the card, so it can link to the card's thread.
  await auditGrantStep(deps, saved ?? { ...grant, card }, 0);
  // A decision can land between posting and storing the reference; its card update found no card, so redo it.
  if (saved && saved.status !== 'pending')
    await deps.chat.updateRequestCard(card, { grant: saved, target, nodes });
  // The approvers' Home tabs list it as waiting for them, the requester's as pending.
  await republishHomes(deps, grant);
}
