import { type DescribedSession, type Session, type SessionObservation, startKnown } from '../domain/session';
import type { Fleet, SessionInfo } from '../ports/fleet';
import { announceSession, nodeDirectory, observe, type TrackingDeps } from './session-tracking';
import { type Place, samePlace } from '../domain/place';
import { placeOf } from './places';

/**
 * DescribeSessions lists a session a little after its state changes, and the previous sweep may have
 * read History just before a session ended: each History read reaches this far behind the last one.
 */
const CURSOR_OVERLAP_MS = 5 * 60_000;
/** A session known only from its end has no start to search History from; short lost sessions start within this. */
const STUB_LOOKBACK_MS = 60 * 60_000;
/** DescribeSessions History keeps 30 days (FACTS.md). */
const HISTORY_DAYS_MS = 30 * 24 * 60 * 60_000;
/** Neither Active nor in History for this long: ended, at the time it went missing. */
export const VANISH_AFTER_MS = 10 * 60_000;

export interface SessionReconcileReport {
  /** Sessions learned from DescribeSessions that no event had told of (lost events; the sandbox has none). */
  discovered: number;
  /** Sessions whose end Keyturn learned from DescribeSessions (`exit`, idle timeout, agent loss, lost events). */
  ended: number;
  posted: number;
  failures: number;
  /** Open sessions whose grant had already ended, terminated now (the revoke's own pass missed them). */
  terminatedLate: number;
}

/** A grant in one of these has been revoked to the end: its policy is gone, and so must its sessions be. */
const ENDED_GRANT = new Set(['expired', 'released', 'revoked', 'failed']);

function described(info: SessionInfo): DescribedSession {
  return {
    id: info.id,
    owner: info.owner,
    nodeId: info.target,
    ...(info.startedAt === undefined ? {} : { startedAt: info.startedAt }),
    ...(info.endedAt === undefined ? {} : { endedAt: info.endedAt }),
    ...(info.document === undefined ? {} : { documentName: info.document }),
    ...(info.outputUrl === undefined ? {} : { outputUrl: info.outputUrl }),
  };
}

/**
 * Run by the sweeper: makes the stored sessions agree with DescribeSessions. Active sessions nobody
 * told Keyturn about are recorded (a lost StartSession event; in the sandbox, every session); watched
 * sessions that left the Active list are ended from History (`exit` makes no API call, FACTS.md), which
 * also brings their log location; History since the last read recovers sessions whose events were lost
 * entirely. Then whatever is due is posted. A failure to read SSM is logged and left to the next sweep.
 */
export async function reconcileSessions(
  deps: TrackingDeps,
  opts: {
    /**
     * Record and announce nothing more after this (the sweeper's Lambda timeout). Whatever is left
     * is the next run's: recorded sessions stay recorded, and the History cursor does not move.
     */
    deadline?: Date;
    /** The account and region whose sessions are read (default: Keyturn's own). */
    place?: Place;
  } = {},
): Promise<SessionReconcileReport> {
  const place = opts.place ?? { accountId: deps.config.aws.accountId, region: deps.config.aws.region };
  const fleet = deps.aws.fleet(place);
  const report: SessionReconcileReport = {
    discovered: 0,
    ended: 0,
    posted: 0,
    failures: 0,
    terminatedLate: 0,
  };
  const now = deps.clock.now();
  const overdue = () => opts.deadline !== undefined && deps.clock.now() >= opts.deadline;
  let cutShort = false;
  const directory = nodeDirectory(deps, place);
  const latest = new Map<string, Session>();

  const record = async (obs: SessionObservation, before: Session | undefined) => {
    try {
      const after = await observe(deps, obs, directory);
      if (before === undefined && after.version === 1) report.discovered++;
      if (before?.status !== 'ended' && after.status === 'ended') report.ended++;
      latest.set(after.id, after);
    } catch (error) {
      report.failures++;
      deps.logger.error({ source: obs.source, err: (error as Error).message }, 'recording a session failed');
    }
  };

  try {
    // One after the other: a failure of either must not leave the other's promise unobserved.
    const active = await fleet.activeSessions();
    const watched = await deps.sessions.listWatched(place);
    for (const s of watched) latest.set(s.id, s);
    const activeIds = new Set(active.map((s) => s.id));

    for (const info of active) {
      if (overdue()) {
        cutShort = true;
        break;
      }
      const known = latest.get(info.id);
      const nothingNew =
        known !== undefined &&
        known.status === 'active' &&
        startKnown(known) &&
        known.missingSince === undefined &&
        (info.outputUrl === undefined || info.outputUrl === known.outputUrl);
      if (!nothingNew) await record({ source: 'active', session: described(info) }, known);
    }

    if (cutShort) throw new ReconcileCutShort();
    report.terminatedLate = await endOutlivingSessions(deps, place, fleet, active, latest);
    const cursor = await deps.sessions.historyCursor(place);
    let after = (cursor === undefined ? now.getTime() : Date.parse(cursor)) - CURSOR_OVERLAP_MS;
    const awaitingHistory = watched.filter(
      (s) =>
        (s.status === 'active' && !activeIds.has(s.id)) ||
        (s.status === 'ended' && s.historyAt === undefined && s.end?.kind !== 'vanished'),
    );
    for (const s of awaitingHistory) {
      // History is filtered by start time (InvokedAfter): reach back to the earliest start still unresolved.
      const from =
        s.startedAt !== undefined
          ? Date.parse(s.startedAt)
          : Date.parse(s.endedAt ?? s.firstSeenAt) - STUB_LOOKBACK_MS;
      after = Math.min(after, from - 1000);
    }
    after = Math.max(after, now.getTime() - HISTORY_DAYS_MS);
    const history = await fleet.sessionsSince(new Date(after).toISOString());

    for (const info of history) {
      if (overdue()) throw new ReconcileCutShort();
      if (activeIds.has(info.id)) continue;
      const known = latest.get(info.id);
      if (known?.historyAt !== undefined) continue;
      await record({ source: 'history', session: described(info) }, known);
    }

    const listed = new Set([...activeIds, ...history.map((s) => s.id)]);
    for (const s of watched) {
      if (overdue()) throw new ReconcileCutShort();
      const current = latest.get(s.id) ?? s;
      if (current.status !== 'active' || listed.has(s.id)) continue;
      const gone =
        current.missingSince !== undefined &&
        now.getTime() - Date.parse(current.missingSince) >= VANISH_AFTER_MS;
      await record(
        gone
          ? { source: 'vanished', id: s.id, at: now.toISOString() }
          : { source: 'missing', id: s.id, at: now.toISOString() },
        current,
      );
    }
    await deps.sessions.setHistoryCursor(place, now.toISOString());
  } catch (error) {
    if (error instanceof ReconcileCutShort) {
      deps.logger.info(
        { recorded: latest.size },
        'session reconcile cut short by the deadline; the next sweep goes on',
      );
    } else {
      report.failures++;
      deps.logger.error(
        { err: (error as Error).message },
        'reading Session Manager failed; the next sweep retries',
      );
    }
  }

  for (const s of latest.values()) {
    if (overdue()) break;
    try {
      report.posted += (await announceSession(deps, s)).posted;
    } catch (error) {
      report.failures++;
      deps.logger.error({ sessionId: s.id, err: (error as Error).message }, 'announcing a session failed');
    }
  }
  return report;
}

/**
 * The third layer's backstop (DESIGN.md: an open session survives the policy's removal). Revoking a
 * grant ends the sessions it finds then; one opened between that look and the policy's removal, or one
 * the `Owner` filter did not return (its value's format is documented only as "an AWS user"), would
 * stay open. Every sweep already lists the active sessions: any still open on a grant that has ended
 * is terminated here. TerminateSession is idempotent, so a repeat after a failure is harmless.
 */
async function endOutlivingSessions(
  deps: TrackingDeps,
  place: Place,
  fleet: Fleet,
  active: readonly SessionInfo[],
  recorded: ReadonlyMap<string, Session>,
): Promise<number> {
  let terminated = 0;
  const onGrant = active.filter((info) => recorded.get(info.id)?.grantId !== undefined);
  if (onGrant.length === 0) return 0;
  // One index query for the usual case (the session's grant is still active); a read each only for the rest.
  const stillActive = new Set((await deps.grants.listByStatus('active')).map((g) => g.id));
  const grants = new Map<string, Awaited<ReturnType<TrackingDeps['grants']['get']>>>();
  for (const info of onGrant) {
    const grantId = recorded.get(info.id)?.grantId as string;
    if (stillActive.has(grantId)) continue;
    if (!grants.has(grantId)) grants.set(grantId, await deps.grants.get(grantId));
    const grant = grants.get(grantId);
    if (!grant || !ENDED_GRANT.has(grant.status)) continue;
    // Only a grant of this place explains a session here (matching guarantees it; this keeps it so).
    if (!samePlace(placeOf(deps.config, grant), place)) continue;
    try {
      await fleet.terminateSession(info.id);
      terminated++;
      deps.logger.warn(
        { sessionId: info.id, grantId, status: grant.status },
        'terminated a session still open after its grant ended',
      );
    } catch (error) {
      deps.logger.error(
        { sessionId: info.id, grantId, err: (error as Error).message },
        'could not terminate a session still open after its grant ended; the next sweep tries again',
      );
    }
  }
  return terminated;
}

/** Not a failure: the deadline came first. Skips the rest, the History cursor included. */
class ReconcileCutShort extends Error {
  override readonly name = 'ReconcileCutShort';
}
