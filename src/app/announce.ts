import { type AwsProfile, awsProfile } from '../domain/person';
import type { Grant, HistoryEntry } from '../domain/grant';
import type { ManagedNode } from '../domain/node';
import type { Target } from '../domain/target';
import type { Notice } from '../ports/chat';
import { auditGrantStep } from './audit';
import { republishHomes } from './publish-home';
import type { Deps } from './deps';
import { extensionCardView } from './extend-grant';
import { fleetFor, nodesToShow, placeOf } from './places';

/**
 * Worker job after any change: post the step's audit line, bring the cards up to date (idempotent)
 * and send the requester the DM for that step, each at most once however often the job is delivered.
 */
export async function announceChange(
  deps: Pick<Deps, 'config' | 'grants' | 'aws' | 'chat' | 'clock' | 'logger'>,
  job: { grantId: string; step: number },
): Promise<void> {
  const grant = await deps.grants.get(job.grantId);
  const entry = grant?.history[job.step];
  const target = grant ? deps.config.targets[grant.target] : undefined;
  if (!grant || !entry || !target) return;
  // Every recorded move passes through here once it is saved: the one place its audit line is posted.
  await auditGrantStep(deps, grant, job.step);

  // Only the request card and the ready DM show nodes: skip the SSM lookup when neither is sent.
  const becameActive = entry.to === 'active' && entry.from === 'approved';
  const nodes = grant.card || becameActive ? await nodesToShow(deps, fleetFor(deps, grant), target.tags) : [];
  if (grant.card) await deps.chat.updateRequestCard(grant.card, { grant, target, nodes });
  if (grant.extension?.card)
    await deps.chat.updateExtensionCard(grant.extension.card, extensionCardView(grant, target));

  const person = Object.hasOwn(deps.config.people, grant.requester)
    ? deps.config.people[grant.requester]
    : undefined;
  // The grant's own account and region: the profile names that account's access role.
  const where = placeOf(deps.config, grant);
  const profile = person ? awsProfile(deps.config.aws, person, where) : undefined;
  const notice = noticeFor(entry, grant, target, nodes, where.region, profile);
  if (notice && (await deps.grants.claimEffect(grant.id, `dm:${job.step}`, deps.clock.now().toISOString())))
    await deps.chat.notify(grant.requester, notice);
  // Idempotent, so a redelivered job only publishes the same Home tabs again.
  await republishHomes(deps, grant);
}

/** Which DM a step earns. Steps the requester took themselves (cancel, asking for more time) earn none. */
function noticeFor(
  entry: HistoryEntry,
  grant: Grant,
  target: Target,
  nodes: readonly ManagedNode[],
  region: string,
  profile: AwsProfile | undefined,
): Notice | undefined {
  switch (entry.to) {
    case 'approved':
    case 'denied':
    case 'lapsed':
      return { kind: entry.to, grant, target };
    case 'failed':
      return entry.from === 'active' ? { kind: 'ended', grant, target } : { kind: 'failed', grant, target };
    case 'expired':
    case 'released':
    case 'revoked':
      return { kind: 'ended', grant, target };
    case 'active':
      if (entry.from === 'approved')
        return { kind: 'ready', grant, target, nodes, region, ...(profile && { profile }) };
      if (entry.event === 'extended') return { kind: 'extended', grant, target };
      if (entry.event === 'extension-denied')
        return {
          kind: 'extension-denied',
          grant,
          target,
          by: entry.by,
          ...(entry.note ? { reason: entry.note } : {}),
        };
      return undefined;
    default:
      return undefined;
  }
}
