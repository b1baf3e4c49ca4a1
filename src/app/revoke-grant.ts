import { type Grant, toIsoSeconds, transition } from '../domain/grant';
import { ownsSession } from '../domain/principal';
import type { Target } from '../domain/target';
import { grantPolicyArn } from './grant-policy';
import { clearRunAsUnlessNeeded } from './run-as';
import type { Deps } from './deps';

/** Long enough for every revoke step with retries; a crashed owner's lease runs out and the next sweep takes over. */
export const REVOKE_LEASE_MS = 2 * 60_000;

export type RevokeOutcome = 'ended' | 'skipped' | 'busy';

/**
 * Ends an active grant whose `ending` is decided (expiry, release, revoke, or a vanished policy):
 * detach and delete the policy, drop the Run As tag if nothing else needs it, terminate the
 * principal's open sessions on the target's nodes, then move the grant to its final status.
 * Every step is idempotent and the status moves last, so after a crash at any step the next
 * sweep simply runs them all again. A lease keeps two sweepers from doing the work twice.
 */
export async function revokeGrant(
  deps: Pick<
    Deps,
    'config' | 'grants' | 'queue' | 'access' | 'fleet' | 'chat' | 'clock' | 'logger' | 'anomalies'
  >,
  grantId: string,
): Promise<RevokeOutcome> {
  const current = await deps.grants.get(grantId);
  if (current?.status !== 'active' || !current.ending) return 'skipped';
  const now = deps.clock.now();
  if (current.revokeLease && Date.parse(current.revokeLease) > now.getTime()) return 'busy';
  const leased: Grant = {
    ...current,
    revokeLease: new Date(now.getTime() + REVOKE_LEASE_MS).toISOString(),
    version: current.version + 1,
  };
  if ((await deps.grants.save(leased, current.version)) === 'stale') return 'busy';
  const ending = current.ending;

  const policyArn = leased.policyArn ?? grantPolicyArn(deps.config.aws, leased.id);
  // The layers are independent (DESIGN.md): IAM refusing (throttled, down) must not keep an open
  // session alive. The sessions still end now; the error is rethrown below so the status does not move.
  let iamFailure: { error: unknown } | undefined;
  try {
    await deps.access.detachPolicy(leased.principal, policyArn);
    await deps.access.deletePolicy(policyArn);
    await clearRunAsUnlessNeeded(deps, leased);
  } catch (error) {
    iamFailure = { error };
  }

  const target = deps.config.targets[leased.target];
  const sessions = target ? await endSessions(deps, leased, target) : { ended: 0, survivors: [] };
  if (
    sessions.survivors.length > 0 &&
    (await deps.grants.claimEffect(leased.id, 'audit:sessions-not-ended', now.toISOString()))
  ) {
    await deps.anomalies.record({
      kind: 'sessions-not-ended',
      at: now.toISOString(),
      grantId: leased.id,
      requester: leased.requester,
      target: leased.target,
      sessionIds: sessions.survivors,
    });
    await deps.chat.postAudit(deps.config.slack.auditChannel, {
      kind: 'sessions-not-ended',
      grant: leased,
      sessionIds: sessions.survivors,
    });
  }
  if (iamFailure) {
    // Give the lease back so the next sweep retries at once instead of waiting it out.
    const { revokeLease: _released, ...unleased } = leased;
    await deps.grants.save({ ...unleased, version: leased.version + 1 }, leased.version);
    throw iamFailure.error;
  }

  const next = transition(leased, ending.status, {
    at: toIsoSeconds(deps.clock.now()),
    by: ending.by,
    note: `${sessions.ended} session${sessions.ended === 1 ? '' : 's'} ended${ending.reason ? `; ${ending.reason}` : ''}`,
    set: {
      sessionsEnded: sessions.ended,
      ...(ending.status === 'failed' && ending.reason ? { failureReason: ending.reason } : {}),
    },
    unset: ['revokeLease'],
  });
  if (!next.ok || (await deps.grants.save(next.value, leased.version)) === 'stale') return 'skipped';
  await deps.queue.enqueue({
    kind: 'grant-changed',
    grantId: leased.id,
    step: next.value.history.length - 1,
  });
  deps.logger.info(
    { grantId: leased.id, status: ending.status, sessionsEnded: sessions.ended },
    'grant ended',
  );
  return 'ended';
}

/**
 * An open session survives the policy's removal (FACTS.md), so terminate the principal's sessions on
 * this target's nodes, then confirm with DescribeSessions: TerminateSession reports success even for
 * ids it does not know. Sessions of other people, or on other fleets, are left alone.
 */
async function endSessions(
  deps: Pick<Deps, 'config' | 'fleet' | 'clock'>,
  grant: Grant,
  target: Target,
): Promise<{ ended: number; survivors: string[] }> {
  const nodeIds = new Set((await deps.fleet.nodesTagged(target.tags)).map((n) => n.id));
  const mine = (await deps.fleet.activeSessions()).filter(
    (s) => nodeIds.has(s.target) && ownsSession(deps.config.aws, grant.principal, s.owner),
  );
  if (mine.length === 0) return { ended: 0, survivors: [] };
  for (const s of mine) await deps.fleet.terminateSession(s.id);

  const ids = new Set(mine.map((s) => s.id));
  let open: string[] = [];
  for (const pause of [0, 1_000, 3_000]) {
    if (pause > 0) await deps.clock.sleep(pause);
    open = (await deps.fleet.activeSessions()).filter((s) => ids.has(s.id)).map((s) => s.id);
    if (open.length === 0) break;
  }
  return { ended: mine.length - open.length, survivors: open };
}
