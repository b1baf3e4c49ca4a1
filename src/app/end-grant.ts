import { type Ending, type Grant, toIsoSeconds, transition } from '../domain/grant';
import { isApprover } from './approval-click';
import { answer, decideAndSave, keptChanging, type SaveStep, saveThen } from './decide-and-save';
import type { AckDeps, Deps } from './deps';
import { grantChanged } from './grant-updates';

export type EndResult =
  | { outcome: 'ending'; grant: Grant; already: boolean }
  | { outcome: 'cancelled'; grant: Grant }
  | {
      outcome: 'refused';
      reason:
        | 'unknown-grant'
        | 'not-yours'
        | 'not-approver'
        | 'not-active'
        | 'not-pending'
        | 'no-active-grant'
        | 'several-active';
      grant?: Grant;
      grants?: Grant[];
    };

type EndDeps = Pick<Deps, 'config' | 'grants' | 'queue' | 'clock'> & Pick<AckDeps, 'chat'>;

/** `/access done [id]` and [I'm done]: the requester gives access back now. */
export async function releaseGrant(
  deps: EndDeps,
  input: { user: string; grantId?: string },
): Promise<EndResult> {
  let grant: Grant | undefined;
  if (input.grantId) {
    grant = await deps.grants.get(input.grantId);
    if (!grant) return { outcome: 'refused', reason: 'unknown-grant' };
  } else {
    const active = (await deps.grants.listByRequester(input.user)).filter(
      (g) => g.status === 'active' && !g.ending,
    );
    if (active.length === 0) return { outcome: 'refused', reason: 'no-active-grant' };
    if (active.length > 1) return { outcome: 'refused', reason: 'several-active', grants: active };
    grant = active[0] as Grant;
  }
  if (grant.requester !== input.user) return { outcome: 'refused', reason: 'not-yours', grant };
  return requestEnding(deps, grant.id, { status: 'released', by: input.user });
}

/** `/access revoke <id> [reason]`: an approver of the target ends someone's access now. */
export async function revokeByApprover(
  deps: EndDeps,
  input: { user: string; grantId: string; reason?: string },
): Promise<EndResult> {
  const grant = await deps.grants.get(input.grantId);
  if (!grant) return { outcome: 'refused', reason: 'unknown-grant' };
  const target = deps.config.targets[grant.target];
  if (!target || !(await isApprover(deps, target, input.user)))
    return { outcome: 'refused', reason: 'not-approver', grant };
  return requestEnding(deps, grant.id, {
    status: 'revoked',
    by: input.user,
    ...(input.reason ? { reason: input.reason } : {}),
  });
}

/** `/access cancel <id>`: the requester withdraws a request nobody has decided yet. */
export async function cancelRequest(
  deps: EndDeps,
  input: { user: string; grantId: string },
): Promise<EndResult> {
  return decideAndSave(
    deps.grants,
    input.grantId,
    (grant): SaveStep<Grant, EndResult> => {
      if (!grant) return answer({ outcome: 'refused', reason: 'unknown-grant' });
      if (grant.requester !== input.user) return answer({ outcome: 'refused', reason: 'not-yours', grant });
      if (grant.status !== 'pending') return answer({ outcome: 'refused', reason: 'not-pending', grant });
      const next = transition(grant, 'cancelled', { at: toIsoSeconds(deps.clock.now()), by: input.user });
      if (!next.ok) return answer({ outcome: 'refused', reason: 'not-pending', grant });
      return saveThen(next.value, async (saved) => {
        await deps.queue.enqueue(grantChanged(saved));
        return { outcome: 'cancelled', grant: saved };
      });
    },
    { attempts: 5, exhausted: keptChanging('grant', input.grantId, 5, 'cancel it') },
  );
}

/**
 * Records how an active grant ends, in one conditional write, and queues the revoke. Recording
 * first means the sweeper finds and finishes it (the byStatus index sorts it by `ending.at`) even
 * if the queued job is lost. A second request to end the same grant changes nothing.
 */
export async function requestEnding(
  deps: EndDeps,
  grantId: string,
  how: Omit<Ending, 'at'>,
  opts: { queueRevoke?: boolean } = {},
): Promise<EndResult> {
  return decideAndSave(
    deps.grants,
    grantId,
    (grant): SaveStep<Grant, EndResult> => {
      if (!grant) return answer({ outcome: 'refused', reason: 'unknown-grant' });
      if (grant.status !== 'active') return answer({ outcome: 'refused', reason: 'not-active', grant });
      if (grant.ending) return answer({ outcome: 'ending', grant, already: true });
      const at = toIsoSeconds(deps.clock.now());
      const next = transition(grant, 'active', {
        at,
        by: how.by,
        event: 'ending-requested',
        // A failure's reason is part of the record from the first write, not only once the revoke is done.
        note: how.status === 'failed' && how.reason ? `failed: ${how.reason}` : how.status,
        set: { ending: { ...how, at } },
      });
      if (!next.ok) return answer({ outcome: 'refused', reason: 'not-active', grant });
      return saveThen(next.value, async (saved) => {
        // The sweeper revokes in the same breath; a queued job too would only race it for the lease.
        if (opts.queueRevoke ?? true) await deps.queue.enqueue({ kind: 'revoke-grant', grantId });
        return { outcome: 'ending', grant: saved, already: false };
      });
    },
    { attempts: 5, exhausted: keptChanging('grant', grantId, 5, 'end it') },
  );
}
