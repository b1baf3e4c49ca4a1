import type { Grant, GrantStatus } from '../domain/grant';
import type { Notice } from '../ports/chat';
import type { Deps } from './deps';

/** Which DM a requester gets when their grant reaches a status; other moves only update the card. */
const NOTICE_FOR: Partial<Record<GrantStatus, Notice['kind']>> = {
  approved: 'approved',
  denied: 'denied',
  active: 'ready',
  failed: 'failed',
};

/**
 * Worker job after any transition: bring the card up to date (idempotent) and send the requester
 * the DM for that step at most once, however often the job is delivered.
 */
export async function announceChange(
  deps: Pick<Deps, 'config' | 'grants' | 'fleet' | 'chat' | 'clock'>,
  job: { grantId: string; step: number },
): Promise<void> {
  const grant = await deps.grants.get(job.grantId);
  const entry = grant?.history[job.step];
  const target = grant ? deps.config.targets[grant.target] : undefined;
  if (!grant || !entry || !target) return;

  const nodes = await deps.fleet.nodesTagged(target.tags);
  if (grant.card) await deps.chat.updateRequestCard(grant.card, { grant, target, nodes });

  const kind = NOTICE_FOR[entry.to];
  if (!kind) return;
  if (!(await deps.grants.claimEffect(grant.id, `dm:${job.step}`, deps.clock.now().toISOString()))) return;
  await deps.chat.notify(grant.requester, noticeFor(kind, grant, target, nodes, deps.config.aws.region));
}

function noticeFor(
  kind: Notice['kind'],
  grant: Grant,
  target: NonNullable<Deps['config']['targets'][string]>,
  nodes: Awaited<ReturnType<Deps['fleet']['nodesTagged']>>,
  region: string,
): Notice {
  return kind === 'ready' ? { kind, grant, target, nodes, region } : { kind, grant, target };
}
