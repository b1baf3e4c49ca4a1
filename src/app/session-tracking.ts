import type { ManagedNode } from '../domain/node';
import {
  type GrantCandidate,
  inGrantWindow,
  matchDecided,
  matchGrant,
  observeSession,
  peopleOwning,
  type Session,
  type SessionObservation,
  sessionChanged,
  sessionDue,
  sessionEnding,
  sessionPlace,
  startKnown,
} from '../domain/session';
import { answer, decideAndSave, type SaveStep, saveThen } from './decide-and-save';
import type { Deps } from './deps';
import { type Place, placeKey, samePlace } from '../domain/place';
import { accountOf, placeOf } from './places';
import { targetPlace } from '../domain/target';

export type TrackingDeps = Pick<
  Deps,
  'config' | 'grants' | 'aws' | 'sessions' | 'sessionChat' | 'clock' | 'logger'
>;

/** Rereads after a lost race; each retry means another writer changed the session in between. */
const MAX_ATTEMPTS = 5;

export class SessionContentionError extends Error {
  readonly code = 'session-contention';
  override readonly name = 'SessionContentionError';
  constructor(sessionId: string) {
    super(`session ${sessionId} kept changing during ${MAX_ATTEMPTS} attempts`);
  }
}

/** What every lost race ends in: another writer keeps changing the session. */
function contended(sessionId: string): () => never {
  return () => {
    throw new SessionContentionError(sessionId);
  };
}

/**
 * The nodes of each target, read once per use-case run: a sweep or an event may look up several
 * sessions, and DescribeInstanceInformation pages are not free.
 */
export interface NodeDirectory {
  /** The account and region whose sessions this directory serves. */
  readonly place: Place;
  nodesOf(targetName: string): Promise<readonly ManagedNode[]>;
  /** A node of any configured target, for naming a node no grant explains. */
  find(nodeId: string): Promise<ManagedNode | undefined>;
}

/**
 * `place`: the account and region the sessions looked up are in. Only targets there are asked (a session
 * is on a node of its own account and region), so another account being unreachable does not matter.
 */
export function nodeDirectory(deps: Pick<Deps, 'config' | 'aws'>, place: Place): NodeDirectory {
  const cache = new Map<string, Promise<readonly ManagedNode[]>>();
  const here = (name: string) => {
    const target = Object.hasOwn(deps.config.targets, name) ? deps.config.targets[name] : undefined;
    return target && samePlace(targetPlace(target), place) ? target : undefined;
  };
  const nodesOf = (targetName: string): Promise<readonly ManagedNode[]> => {
    let nodes = cache.get(targetName);
    if (nodes === undefined) {
      const target = here(targetName);
      nodes = target ? deps.aws.fleet(place).nodesTagged(target.tags) : Promise.resolve([]);
      cache.set(targetName, nodes);
    }
    return nodes;
  };
  return {
    place,
    nodesOf,
    async find(nodeId) {
      for (const name of Object.keys(deps.config.targets).filter((n) => here(n))) {
        const node = (await nodesOf(name)).find((n) => n.id === nodeId);
        if (node) return node;
      }
      return undefined;
    },
  };
}

/**
 * The grant a session belongs to (or none), and the node's name when a target's node list has it.
 * Only grants given in the session's own account and region are candidates: a person's access role
 * has the same name in every account, and a grant in one allows nothing in another.
 */
async function decideMatch(
  deps: TrackingDeps,
  s: Session & { owner: string; startedAt: string; node: { id: string } },
  directory: NodeDirectory,
): Promise<Pick<Session, 'grantId' | 'unmatched'> & { nodeName?: string }> {
  const place = directory.place;
  const people = peopleOwning(s.owner, deps.config.people, accountOf(deps.config, s));
  const grants = (await Promise.all(people.map((user) => deps.grants.listByRequester(user))))
    .flat()
    .filter((g) => samePlace(placeOf(deps.config, g), place) && inGrantWindow(g, s.startedAt));
  const candidates: GrantCandidate[] = await Promise.all(
    grants.map(async (grant) => ({
      grant,
      nodeIds: new Set((await directory.nodesOf(grant.target)).map((n) => n.id)),
    })),
  );
  const grant = matchGrant(
    { owner: s.owner, nodeId: s.node.id, startedAt: s.startedAt, accountId: place.accountId },
    candidates,
    { partition: deps.config.aws.partition, accountId: deps.config.aws.accountId },
  );
  const node = grant
    ? (await directory.nodesOf(grant.target)).find((n) => n.id === s.node.id)
    : await directory.find(s.node.id);
  return {
    ...(grant ? { grantId: grant.id } : { unmatched: true }),
    ...(node?.name ? { nodeName: node.name } : {}),
  };
}

/** Observations that say who opened the session, where: they alone may move a record to their place. */
const OWNING_SOURCES = new Set<SessionObservation['source']>(['start-call', 'active', 'history']);

/**
 * Applies one observation to the stored session with a conditional write; the first time owner, node
 * and start are all known, decides the grant it belongs to. Nothing is written when nothing changed,
 * so a duplicate event costs one read. The observation is made in `directory.place`: a new session is
 * recorded there, and one already recorded in another place is left as it is (an id another account
 * named, e.g. in a TerminateSession call, which succeeds for any id: FACTS.md).
 */
export async function observe(
  deps: TrackingDeps,
  obs: SessionObservation,
  directory: NodeDirectory,
): Promise<Session> {
  const id = obs.source === 'active' || obs.source === 'history' ? obs.session.id : obs.id;
  let match: Awaited<ReturnType<typeof decideMatch>> | undefined;
  return decideAndSave(
    deps.sessions,
    id,
    async (current): Promise<SaveStep<Session, Session>> => {
      let base = current;
      if (current !== undefined && !samePlace(sessionPlace(deps.config.aws, current), directory.place)) {
        // A record that only another place's TerminateSession made (no owner, no start) yields to the
        // session's own start: otherwise any served account could hide another's session from tracking.
        if (current.owner !== undefined || !OWNING_SOURCES.has(obs.source)) {
          deps.logger.warn(
            { sessionId: id, source: obs.source, place: placeKey(directory.place) },
            'session observed in another place than the one it was recorded in; ignored',
          );
          return answer(current);
        }
        deps.logger.warn(
          { sessionId: id, source: obs.source, place: placeKey(directory.place) },
          "session first named by another place's TerminateSession; recorded where it started",
        );
        base = undefined;
      }
      const next = observeSession(base, obs, deps.clock.now().toISOString(), directory.place);
      if (startKnown(next) && !matchDecided(next)) {
        match ??= await decideMatch(deps, next, directory);
        if (match.grantId !== undefined) next.grantId = match.grantId;
        if (match.unmatched) next.unmatched = true;
        if (match.nodeName !== undefined && next.node.name === undefined) next.node.name = match.nodeName;
      }
      if (base !== undefined && !sessionChanged(base, next)) return answer(base);
      next.version = (current?.version ?? 0) + 1;
      return saveThen(next, (saved) => saved);
    },
    { attempts: MAX_ATTEMPTS, exhausted: contended(id) },
  );
}

export interface Announced {
  session: Session;
  posted: number;
}

/**
 * Posts what is due for a session — the start line and the summary in its grant's request thread,
 * or the anomaly in the audit channel — each at most once: the claim (`…PostedAt`) is written first,
 * conditionally, so duplicates, retries and a concurrent sweep never post twice. Settles the session
 * in the same write once nothing more can change.
 */
export async function announceSession(deps: TrackingDeps, session: Session): Promise<Announced> {
  let s = session;
  return decideAndSave(
    deps.sessions,
    session.id,
    (fresh): SaveStep<Session, Announced> => {
      if (fresh === undefined) return answer({ session: s, posted: 0 });
      s = fresh;
      const now = deps.clock.now().toISOString();
      const due = sessionDue(s, now);
      if (!due.startReply && !due.summary && !due.anomaly && !due.settle)
        return answer({ session: s, posted: 0 });
      const claimed: Session = {
        ...s,
        version: s.version + 1,
        ...(due.startReply ? { startPostedAt: now } : {}),
        ...(due.summary ? { summaryPostedAt: now } : {}),
        ...(due.anomaly ? { anomalyPostedAt: now } : {}),
        ...(due.settle ? { settledAt: now } : {}),
      };
      return saveThen(claimed, async (saved) => ({ session: saved, posted: await post(deps, fresh, due) }));
    },
    { attempts: MAX_ATTEMPTS, exhausted: contended(session.id), current: session },
  );
}

/** Posts the claimed messages. A Slack failure is logged, not thrown: the claim stands, so a retry would not repost. */
async function post(
  deps: TrackingDeps,
  s: Session,
  due: { startReply: boolean; summary: boolean; anomaly: boolean },
): Promise<number> {
  let posted = 0;
  const attempt = async (what: string, send: () => Promise<void>) => {
    try {
      await send();
      posted++;
    } catch (error) {
      deps.logger.error(
        { sessionId: s.id, err: (error as Error).message },
        `posting the session ${what} failed`,
      );
    }
  };
  if (due.anomaly) {
    const people = s.owner ? peopleOwning(s.owner, deps.config.people, accountOf(deps.config, s)) : [];
    await attempt('anomaly', () =>
      deps.sessionChat.postUnmatchedSession(deps.config.slack.auditChannel, { session: s, people }),
    );
  }
  if (!due.startReply && !due.summary) return posted;
  const grant = s.grantId === undefined ? undefined : await deps.grants.get(s.grantId);
  const thread = grant?.card;
  if (!grant || !thread) {
    deps.logger.warn({ sessionId: s.id, grantId: s.grantId }, 'no request thread to post the session in');
    return posted;
  }
  if (due.startReply)
    await attempt('start', () => deps.sessionChat.postSessionStarted(thread, { session: s, grant }));
  if (due.summary)
    await attempt('summary', () =>
      deps.sessionChat.postSessionSummary(thread, { session: s, grant, ending: sessionEnding(s, grant) }),
    );
  return posted;
}
