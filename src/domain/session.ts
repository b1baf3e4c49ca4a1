import type { Grant } from './grant';
import { type Person, personPrincipal } from './person';
import { type Place, recordPlace } from './place';
import { type AwsAccount, ownsSession } from './principal';
import { type DocumentKind, SESSION_DOCUMENTS } from './target';

/** What a session was for, in the words of `targets.<name>.documents`, plus anything else. */
export type SessionDocument = DocumentKind | 'other';
export const SESSION_DOCUMENT_KINDS: readonly SessionDocument[] = ['shell', 'ssh', 'port-forward', 'other'];

const DOCUMENT_KIND_BY_NAME: Readonly<Record<string, DocumentKind>> = {
  [SESSION_DOCUMENTS.shell]: 'shell',
  [SESSION_DOCUMENTS.ssh]: 'ssh',
  [SESSION_DOCUMENTS['port-forward']]: 'port-forward',
  // Same data channel, forwarded on to another host; still a port forward for the reader.
  'AWS-StartPortForwardingSessionToRemoteHost': 'port-forward',
};

/**
 * The kind of a Session Manager document. StartSession without a DocumentName opens the default
 * shell (SSM-SessionManagerRunShell), so an absent name is a shell; unknown documents are `other`.
 */
export function documentKind(documentName: string | undefined): SessionDocument {
  if (documentName === undefined || documentName === '') return 'shell';
  return DOCUMENT_KIND_BY_NAME[documentName] ?? 'other';
}

/**
 * Session logging records shell sessions only: SSH and port forwarding carry an opaque byte stream
 * that Session Manager does not transcribe (FACTS.md "Session Manager").
 */
export function isTranscribed(document: SessionDocument): boolean {
  return document === 'shell';
}

export interface SessionNode {
  id: string;
  /** The Name tag (or computer name) when Keyturn knows the node. */
  name?: string;
}

/** How Keyturn learned that a session ended. */
export type SessionEnd =
  /** A TerminateSession call, by the caller's IAM ARN (the owner, Keyturn's role, an admin). */
  | { kind: 'api-call'; by: string }
  /** Left DescribeSessions' Active list with no TerminateSession seen: `exit`, idle timeout, a lost agent. */
  | { kind: 'no-api-call' }
  /** Left the Active list and never appeared in History; the end time is when it went missing. */
  | { kind: 'vanished' };

export type SessionStatus = 'active' | 'ended';

/**
 * A Session Manager session as Keyturn saw it, assembled from CloudTrail events and DescribeSessions
 * in whatever order they arrive. Start fields stay unset while only an end has been seen.
 */
export interface Session {
  id: string;
  /** Incremented by every write; each write is conditional on the version it read (0: not stored yet). */
  version: number;
  /**
   * The account and region the session is in (Session Manager's, and so its node's), set when it is
   * first recorded. Absent on sessions recorded before Keyturn served other accounts: Keyturn's own.
   */
  account?: string;
  region?: string;
  status: SessionStatus;
  /** When Keyturn first heard of the session, whatever the source. */
  firstSeenAt: string;
  /** IAM ARN of the caller that started it (`…:user/alice`, `arn:aws:sts::…:assumed-role/<role>/<name>`). */
  owner?: string;
  node?: SessionNode;
  document?: SessionDocument;
  /** The document name as Session Manager reported it, for `other`. */
  documentName?: string;
  startedAt?: string;
  endedAt?: string;
  end?: SessionEnd;
  /** The grant it belongs to; decided once, when owner, node and start are first known. */
  grantId?: string;
  /** Decided like grantId: the session matched no grant (someone has standing ssm:StartSession). */
  unmatched?: boolean;
  /** Session logging's S3 or CloudWatch URL (DescribeSessions OutputUrl). */
  outputUrl?: string;
  /** When DescribeSessions History listed it ended: its end time and log location are then final. */
  historyAt?: string;
  /** When a reconcile first found it neither Active nor in History. */
  missingSince?: string;
  /** When each one-time message was claimed, so retries and duplicates never post twice. */
  startPostedAt?: string;
  summaryPostedAt?: string;
  anomalyPostedAt?: string;
  /** Nothing more to learn or post: the sweeper stops watching it. */
  settledAt?: string;
}

/** A session as DescribeSessions lists it, in domain words. */
export interface DescribedSession {
  id: string;
  owner: string;
  nodeId: string;
  startedAt?: string;
  endedAt?: string;
  documentName?: string;
  outputUrl?: string;
}

/** One thing Keyturn learned about a session. Observations commute: any order gives the same end state. */
export type SessionObservation =
  | { source: 'start-call'; id: string; owner: string; nodeId: string; documentName?: string; at: string }
  /** ResumeSession: the owner reconnected; the session is open (node unknown from this call). */
  | { source: 'resume-call'; id: string; owner: string; at: string }
  | { source: 'terminate-call'; id: string; by: string; at: string }
  | { source: 'active'; session: DescribedSession }
  | { source: 'history'; session: DescribedSession }
  /** Neither Active nor in History at `at`. */
  | { source: 'missing'; id: string; at: string }
  /** Missing for long enough: ended, at the time it went missing. */
  | { source: 'vanished'; id: string; at: string };

/** Every timestamp Keyturn stores for sessions has one shape, so ISO strings sort and compare as times. */
export function canonicalTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString();
}

export function newSession(id: string, seenAt: string, place?: Place): Session {
  return {
    id,
    version: 0,
    ...(place ? { account: place.accountId, region: place.region } : {}),
    status: 'active',
    firstSeenAt: canonicalTime(seenAt),
  };
}

/** Where a session is: the place it recorded, or Keyturn's own for sessions recorded before there were others. */
export function sessionPlace(home: Place, s: Pick<Session, 'account' | 'region'>): Place {
  return recordPlace(home, s);
}

/**
 * The session after one observation. Monotonic: fields only fill in (DescribeSessions, SSM's own
 * record, may correct start and end times), and an ended session never goes back to active,
 * so duplicate and out-of-order events are harmless. Pure: the version is the store's business.
 */
export function observeSession(
  current: Session | undefined,
  obs: SessionObservation,
  now: string,
  /** Where the observation was made: recorded on a session seen for the first time. */
  place?: Place,
): Session {
  const id = obs.source === 'active' || obs.source === 'history' ? obs.session.id : obs.id;
  const s: Session = structuredClone(current ?? newSession(id, now, place));
  switch (obs.source) {
    case 'start-call':
      fillStart(s, {
        owner: obs.owner,
        nodeId: obs.nodeId,
        startedAt: obs.at,
        documentName: obs.documentName,
      });
      break;
    case 'resume-call':
      s.owner ??= obs.owner;
      break;
    case 'terminate-call':
      if (s.status === 'active') {
        s.status = 'ended';
        s.endedAt = canonicalTime(obs.at);
      }
      // A reconcile may have seen the end first; the call still says who ended it.
      if (s.end?.kind !== 'api-call') s.end = { kind: 'api-call', by: obs.by };
      delete s.missingSince;
      break;
    case 'active':
      fillStart(s, obs.session, { authoritative: true });
      if (obs.session.outputUrl) s.outputUrl = obs.session.outputUrl;
      delete s.missingSince;
      break;
    case 'history': {
      fillStart(s, obs.session, { authoritative: true });
      s.status = 'ended';
      // History's EndDate is SSM's own record; an event's time is only when the call was made.
      const endedAt = obs.session.endedAt ?? s.endedAt ?? now;
      s.endedAt = canonicalTime(endedAt);
      s.end ??= { kind: 'no-api-call' };
      if (s.end.kind === 'vanished') s.end = { kind: 'no-api-call' };
      if (obs.session.outputUrl) s.outputUrl = obs.session.outputUrl;
      s.historyAt ??= canonicalTime(now);
      delete s.missingSince;
      break;
    }
    case 'missing':
      if (s.status === 'active') s.missingSince ??= canonicalTime(obs.at);
      break;
    case 'vanished':
      if (s.status === 'active') {
        s.status = 'ended';
        s.endedAt = canonicalTime(s.missingSince ?? obs.at);
        s.end = { kind: 'vanished' };
        delete s.missingSince;
      }
      break;
  }
  return s;
}

function fillStart(
  s: Session,
  start: { owner: string; nodeId: string; startedAt?: string; documentName?: string },
  opts: { authoritative?: boolean } = {},
): void {
  if (start.owner !== '') s.owner ??= start.owner;
  if (start.nodeId !== '' && s.node === undefined) s.node = { id: start.nodeId };
  if (start.startedAt !== undefined && (opts.authoritative || s.startedAt === undefined))
    s.startedAt = canonicalTime(start.startedAt);
  if (s.document === undefined || (opts.authoritative && start.documentName !== undefined)) {
    s.document = documentKind(start.documentName);
    if (start.documentName) s.documentName = start.documentName;
  }
}

/** True when the two differ in anything but their version: an unchanged session is not written again. */
export function sessionChanged(a: Session | undefined, b: Session): boolean {
  if (a === undefined) return true;
  return stable({ ...a, version: 0 }) !== stable({ ...b, version: 0 });
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Owner, node and start known: enough to match a grant and to describe the session. */
export function startKnown(
  s: Session,
): s is Session & { owner: string; node: SessionNode; startedAt: string; document: SessionDocument } {
  return (
    s.owner !== undefined && s.node !== undefined && s.startedAt !== undefined && s.document !== undefined
  );
}

/** Whether grant matching has run for this session. */
export function matchDecided(s: Session): boolean {
  return s.grantId !== undefined || s.unmatched === true;
}

/** Inside the grant's policy window: the policy itself allows StartSession only then (DESIGN.md). */
export function inGrantWindow(grant: Grant, at: string): boolean {
  if (grant.startsAt === undefined || grant.expiresAt === undefined) return false;
  const t = Date.parse(at);
  return Date.parse(grant.startsAt) <= t && t <= Date.parse(grant.expiresAt);
}

/**
 * Whether the grant's policy can have been attached: being applied (approved), active, or ended after
 * it was active. A grant the worker failed or refused before activating never gave access, so it
 * explains no session (and a session matched to it would be terminated as outliving it).
 */
function tookEffect(grant: Grant): boolean {
  return (
    grant.status === 'approved' || grant.status === 'active' || grant.history.some((h) => h.to === 'active')
  );
}

/** A grant with the ids of the nodes that carry its target's tags. */
export interface GrantCandidate {
  grant: Grant;
  nodeIds: ReadonlySet<string>;
}

/**
 * The grant a session belongs to: its principal owns the session in the grant's own account, the
 * session is in that account, the node carries the target's tags, and the session started inside the
 * grant's window. Of several (overlapping targets), the grant approved last, which is the one whose
 * policy the session most plausibly used. A grant in one account never explains a session in another,
 * even when the same person's access role there has the same name.
 */
export function matchGrant(
  start: {
    owner: string;
    nodeId: string;
    startedAt: string;
    /** The session's account; absent: Keyturn's own (`home`). */
    accountId?: string;
  },
  candidates: readonly GrantCandidate[],
  /** Keyturn's own account: where grants and sessions recorded before there were others are. */
  home: AwsAccount,
): Grant | undefined {
  const sessionAccount = start.accountId ?? home.accountId;
  const grantAccount = (grant: Grant): AwsAccount => ({
    partition: home.partition,
    accountId: grant.account ?? home.accountId,
  });
  const matching = candidates
    .filter(
      ({ grant, nodeIds }) =>
        tookEffect(grant) &&
        grantAccount(grant).accountId === sessionAccount &&
        ownsSession(grantAccount(grant), grant.principal, start.owner) &&
        nodeIds.has(start.nodeId) &&
        inGrantWindow(grant, start.startedAt),
    )
    .map((c) => c.grant)
    .sort((a, b) => Date.parse(b.startsAt ?? '') - Date.parse(a.startsAt ?? ''));
  return matching[0];
}

/**
 * The Slack users whose principal owns a session: exactly one through an access role (its Owner is
 * `assumed-role/<their access role>/<their session name>`); a directly attached role may be several.
 */
export function peopleOwning(
  owner: string,
  people: Readonly<Record<string, Person>>,
  account: AwsAccount,
): string[] {
  return Object.entries(people)
    .filter(([, person]) => ownsSession(account, personPrincipal(person), owner))
    .map(([user]) => user)
    .sort();
}

/** How a session ended, in the words of its summary. */
export type SessionEnding =
  /** Its owner ended it with TerminateSession. */
  | { kind: 'exited'; by: string }
  /** Keyturn ended it because its grant ended: expired, released, revoked (by whom, why) or failed. */
  | {
      kind: 'grant-ended';
      status: 'expired' | 'released' | 'revoked' | 'failed';
      by: string;
      reason?: string;
    }
  /** Someone else called TerminateSession. */
  | { kind: 'terminated'; by: string }
  /** No API call ended it: `exit` typed on the node, idle timeout, or the agent went away. */
  | { kind: 'no-api-call' }
  | { kind: 'unknown' };

/**
 * Reads how a session ended. A session that ended once its grant was ending was ended by Keyturn's
 * revoke (its TerminateSession comes from Keyturn's role, or is only seen as the session leaving
 * DescribeSessions), whoever the call is attributed to — unless its owner closed it themselves.
 */
export function sessionEnding(s: Session, grant: Grant | undefined): SessionEnding {
  if (s.end?.kind === 'api-call' && s.owner !== undefined && s.end.by === s.owner)
    return { kind: 'exited', by: s.end.by };
  const ending = grant?.ending;
  if (ending !== undefined && s.endedAt !== undefined && Date.parse(s.endedAt) >= Date.parse(ending.at)) {
    return {
      kind: 'grant-ended',
      status: ending.status,
      by: ending.by,
      ...(ending.reason === undefined ? {} : { reason: ending.reason }),
    };
  }
  if (s.end?.kind === 'api-call') return { kind: 'terminated', by: s.end.by };
  if (s.end?.kind === 'no-api-call') return { kind: 'no-api-call' };
  return { kind: 'unknown' };
}

/** Whole minutes from start to end (or to `now` while open), rounded to the nearest; 0 when the start is unknown. */
export function sessionMinutes(s: Session, now: string): number {
  return Math.round(sessionSeconds(s, now) / 60);
}

export function sessionSeconds(s: Session, now: string): number {
  if (s.startedAt === undefined) return 0;
  const end = s.endedAt ?? now;
  return Math.max(0, Math.round((Date.parse(end) - Date.parse(s.startedAt)) / 1000));
}

/**
 * How long an ended session waits for DescribeSessions History before its summary goes out anyway:
 * History carries the log location (OutputUrl), which no CloudTrail event does.
 */
export const END_GRACE_MS = 5 * 60_000;
/** A session known only from an end (or a resume) whose start never turns up is given up on after this. */
export const STUB_GIVE_UP_MS = 60 * 60_000;

/** The end time and log location will not change any more. */
export function endFinal(s: Session, now: string): boolean {
  if (s.status !== 'ended' || s.endedAt === undefined) return false;
  if (s.historyAt !== undefined || s.end?.kind === 'vanished') return true;
  return Date.parse(now) - Date.parse(s.endedAt) >= END_GRACE_MS;
}

/** What is due for a session now; each message at most once (its `…PostedAt` is claimed before posting). */
export interface SessionDue {
  startReply: boolean;
  summary: boolean;
  anomaly: boolean;
  settle: boolean;
}

export function sessionDue(s: Session, now: string): SessionDue {
  const known = startKnown(s);
  // A session that ended before Keyturn learned of its start gets its summary only: a start line after the fact is noise.
  const startReply =
    s.grantId !== undefined && known && s.status === 'active' && s.startPostedAt === undefined;
  const anomaly = s.unmatched === true && known && s.anomalyPostedAt === undefined;
  const final = endFinal(s, now);
  const summary = s.grantId !== undefined && known && final && s.summaryPostedAt === undefined;
  const givenUp =
    !known && s.status === 'ended' && Date.parse(now) - Date.parse(s.firstSeenAt) >= STUB_GIVE_UP_MS;
  const settle = s.settledAt === undefined && ((known && final && matchDecided(s)) || givenUp);
  return { startReply, summary, anomaly, settle };
}
