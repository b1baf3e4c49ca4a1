import { type Grant, toIsoSeconds, transition } from '../domain/grant';
import type { ManagedNode } from '../domain/node';
import { ownsSession, sessionOwner } from '../domain/principal';
import { type Target, targetPlace } from '../domain/target';
import { placeKey } from '../domain/place';
import { isAccountUnreachable } from '../ports/aws-places';
import { policyArnOfGrant } from './grant-policy';
import { grantChanged } from './grant-updates';
import { clearRunAsUnlessNeeded } from './run-as';
import type { Deps } from './deps';
import { accessFor, accountOf, fleetFor, placeOf, targetFleet } from './places';

/** Long enough for every revoke step with retries; a crashed owner's lease runs out and the next sweep takes over. */
export const REVOKE_LEASE_MS = 2 * 60_000;

export type RevokeOutcome = 'ended' | 'skipped' | 'busy';

/**
 * A target's managed nodes (`Fleet.nodesTagged`) in the target's account and region; a sweep reads
 * each target's once for all its revokes.
 */
export type NodeLookup = (target: Target) => Promise<readonly ManagedNode[]>;

/** One read per target and place for as long as the returned lookup lives (one sweep): nodes change far slower. */
export function nodesOncePer(deps: Pick<Deps, 'aws'>): NodeLookup {
  const read = new Map<string, Promise<readonly ManagedNode[]>>();
  return (target) => {
    const key = `${placeKey(targetPlace(target))}/${target.name}`;
    let nodes = read.get(key);
    if (!nodes) {
      nodes = targetFleet(deps, target).nodesTagged(target.tags);
      // A failed read is not kept: the next revoke asks again.
      nodes.catch(() => read.delete(key));
      read.set(key, nodes);
    }
    return nodes;
  };
}

/**
 * Ends an active grant whose `ending` is decided (expiry, release, revoke, or a vanished policy):
 * detach and delete the policy, drop the Run As tag if nothing else needs it, terminate the
 * principal's open sessions on the target's nodes, then move the grant to its final status.
 * Every step is idempotent and the status moves last, so after a crash at any step the next
 * sweep simply runs them all again. A lease keeps two sweepers from doing the work twice.
 */
export async function revokeGrant(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'aws' | 'chat' | 'clock' | 'logger' | 'anomalies'>,
  grantId: string,
  opts: {
    /** The grant as just read or written by the caller, to spare a read; its version guards the lease. */
    grant?: Grant;
    nodes?: NodeLookup;
  } = {},
): Promise<RevokeOutcome> {
  const current = opts.grant?.id === grantId ? opts.grant : await deps.grants.get(grantId);
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

  // Derived, never read from the record: the table is no witness (issue 11), and a stored ARN naming
  // another policy would have this detach and delete it. Keyturn only ever stores this same ARN.
  const policyArn = policyArnOfGrant(deps.config.aws, leased);
  // The nodes are looked up where the grant was given, even if its target has moved since.
  const place = placeOf(deps.config, leased);
  const configured = deps.config.targets[leased.target];
  const target = configured && { ...configured, account: place.accountId, region: place.region };
  const nodes = opts.nodes ?? ((t: Target) => targetFleet(deps, t).nodesTagged(t.tags));
  const access = accessFor(deps, leased);
  // The layers are independent (DESIGN.md), so they run side by side: IAM refusing (throttled, down)
  // must not keep an open session alive. The sessions still end now; the IAM error is rethrown below
  // so the status does not move.
  const [iam, ended] = await Promise.allSettled([
    (async () => {
      await access.detachPolicy(leased.principal, policyArn);
      await access.deletePolicy(policyArn);
      await clearRunAsUnlessNeeded(deps, leased);
    })(),
    target ? endSessions(deps, leased, target, nodes) : { ended: 0, survivors: [] },
  ]);
  // SSM failing leaves the lease to run out, as before: the next sweep after it runs every step again.
  // An account that cannot be reached at all did nothing, though: the next sweep may try again at once.
  if (ended.status === 'rejected') {
    if (isAccountUnreachable(ended.reason)) await releaseLease(deps, leased);
    throw ended.reason;
  }
  const sessions = ended.value;
  const iamFailure = iam.status === 'rejected' ? { error: iam.reason as unknown } : undefined;
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
    await releaseLease(deps, leased);
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
  await deps.queue.enqueue(grantChanged(next.value));
  deps.logger.info(
    { grantId: leased.id, status: ending.status, sessionsEnded: sessions.ended },
    'grant ended',
  );
  return 'ended';
}

/** Gives a revoke's lease back (conditionally: a grant changed since is someone else's now). */
async function releaseLease(deps: Pick<Deps, 'grants'>, leased: Grant): Promise<void> {
  const { revokeLease: _released, ...unleased } = leased;
  await deps.grants.save({ ...unleased, version: leased.version + 1 }, leased.version);
}

/**
 * An open session survives the policy's removal (FACTS.md), so terminate the principal's sessions on
 * this target's nodes, then confirm with DescribeSessions: TerminateSession reports success even for
 * ids it does not know. Sessions of other people, or on other fleets, are left alone.
 */
async function endSessions(
  deps: Pick<Deps, 'config' | 'aws' | 'clock'>,
  grant: Grant,
  target: Target,
  nodes: NodeLookup,
): Promise<{ ended: number; survivors: string[] }> {
  const account = accountOf(deps.config, grant);
  const fleet = fleetFor(deps, grant);
  const owner = sessionOwner(account, grant.principal);
  const ownersSessions = async () =>
    (await fleet.activeSessions(owner ? { owner } : {})).filter((s) =>
      ownsSession(account, grant.principal, s.owner),
    );
  const owned = await ownersSessions();
  // Nothing open: no need to know which nodes are the target's.
  if (owned.length === 0) return { ended: 0, survivors: [] };
  const nodeIds = new Set((await nodes(target)).map((n) => n.id));
  const mine = owned.filter((s) => nodeIds.has(s.target));
  if (mine.length === 0) return { ended: 0, survivors: [] };
  for (const s of mine) await fleet.terminateSession(s.id);

  const ids = new Set(mine.map((s) => s.id));
  let open: string[] = [];
  for (const pause of [0, 1_000, 3_000]) {
    if (pause > 0) await deps.clock.sleep(pause);
    open = (await ownersSessions()).filter((s) => ids.has(s.id)).map((s) => s.id);
    if (open.length === 0) break;
  }
  return { ended: mine.length - open.length, survivors: open };
}
