import type { Anomaly } from './anomaly';
import type { CommandRun } from './command-run';
import type { Grant } from './grant';
import type { Person } from './person';
import type { AwsAccount } from './principal';
import { peopleOwning, type Session, type SessionDocument, sessionSeconds } from './session';

// ---- local days ---------------------------------------------------------------------------------

/** One calendar day in an IANA zone, as the UTC instants it runs between: [start, end). */
export interface LocalDay {
  /** YYYY-MM-DD, in `timeZone`. */
  date: string;
  timeZone: string;
  /** ISO instants (with milliseconds). 23, 24 or 25 hours apart around daylight-saving changes. */
  start: string;
  end: string;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD (2026-02-30 is not one). */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

export function addDays(date: string, days: number): string {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days)).toISOString().slice(0, 10);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl is the IANA database the runtime ships; formatters are costly to build, so one per zone. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading in `timeZone` at an instant, as numbers. */
function wallClock(ms: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The local calendar date of an instant in `timeZone`. */
export function localDateOf(instant: Date | string, timeZone: string): string {
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  const w = wallClock(ms, timeZone);
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** Local HH:MM of an instant in `timeZone`. */
export function localTimeOf(instant: string, timeZone: string): string {
  const w = wallClock(Date.parse(instant), timeZone);
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}

/**
 * The first instant of a local date. Usually local midnight: the UTC reading of midnight minus the
 * zone's offset, with the offset taken on either side of a change. Where a change skips midnight
 * (America/Santiago springs from 00:00 to 01:00) the day starts at the first instant that exists.
 */
function startOfLocalDate(date: string, timeZone: string): number {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  const midnightAsUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const hour = 3_600_000;
  // Offsets run from UTC-12 to UTC+14: the real start lies within 15 hours of midnight-as-UTC.
  const candidates = [-15 * hour, 0, 15 * hour]
    .map((probe) => midnightAsUtc - offsetAt(midnightAsUtc + probe, timeZone))
    .filter((ms) => {
      const w = wallClock(ms, timeZone);
      return localDateOf(new Date(ms), timeZone) === date && w.hour === 0 && w.minute === 0 && w.second === 0;
    });
  if (candidates.length > 0) return Math.min(...candidates);
  // No local midnight that day: search for the first second whose local date is `date`.
  let lo = midnightAsUtc - 15 * hour;
  let hi = midnightAsUtc + 15 * hour;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localDateOf(new Date(mid), timeZone) >= date) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local day `date` in `timeZone`, DST-correct: a spring-forward day lasts 23 hours, a fall-back day 25. */
export function localDay(date: string, timeZone: string): LocalDay {
  if (!isIsoDate(date)) throw new RangeError(`not a date: ${date}`);
  return {
    date,
    timeZone,
    start: new Date(startOfLocalDate(date, timeZone)).toISOString(),
    end: new Date(startOfLocalDate(addDays(date, 1), timeZone)).toISOString(),
  };
}

/** The local day before the one `now` falls in: what a morning digest reports on. */
export function previousLocalDay(now: Date, timeZone: string): LocalDay {
  return localDay(addDays(localDateOf(now, timeZone), -1), timeZone);
}

/** The UTC dates (YYYY-MM-DD) any instant in [start, end) falls on: the byDay index partitions to read. */
export function utcDatesCovering(start: string, end: string): string[] {
  const last = new Date(Date.parse(end) - 1).toISOString().slice(0, 10);
  const dates: string[] = [];
  for (let d = start.slice(0, 10); d <= last; d = addDays(d, 1)) dates.push(d);
  return dates;
}

export function inDay(day: Pick<LocalDay, 'start' | 'end'>, iso: string | undefined): boolean {
  if (iso === undefined) return false;
  const t = Date.parse(iso);
  return Date.parse(day.start) <= t && t < Date.parse(day.end);
}

/** "Monday 23 November 2026": the date is a calendar date, so it is named without any zone arithmetic. */
export function dayLabel(date: string): string {
  const m = ISO_DATE.exec(date);
  if (!m) return date;
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  })
    .format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12)))
    .replace(',', '');
}

/** "45s", "12m", "2h 5m": rounded to the minute once past one. */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

// ---- composition --------------------------------------------------------------------------------

/** How a request ended up: approved covers every grant that was approved, however it ended later. */
export const REQUEST_OUTCOMES = ['approved', 'denied', 'lapsed', 'cancelled', 'failed', 'pending'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

export function requestOutcome(grant: Grant): RequestOutcome {
  switch (grant.status) {
    case 'pending':
    case 'denied':
    case 'lapsed':
    case 'cancelled':
      return grant.status;
    case 'failed':
      // A grant that failed after it was active (its policy vanished) had been approved and used.
      return grant.history.some((h) => h.to === 'active') ? 'approved' : 'failed';
    case 'approved':
    case 'active':
    case 'expired':
    case 'revoked':
    case 'released':
      return 'approved';
  }
}

/** Run Command outcomes as the digest counts them. */
export const RUN_OUTCOMES = ['succeeded', 'partial', 'failed', 'no-nodes', 'denied', 'in-progress'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** A run's outcome in the words its own message in the channel uses (src/adapters/slack/run-phrases.ts), never a raw id. */
export const RUN_OUTCOME_WORDS: Readonly<Record<RunOutcome, string>> = {
  succeeded: 'succeeded',
  partial: 'failed on some nodes',
  failed: 'failed',
  'no-nodes': 'did not run',
  denied: 'denied',
  'in-progress': 'running',
};

/** One Run Command run, as the digest needs it. */
export interface DigestRun {
  id: string;
  snippet: string;
  target: string;
  requester: string;
  at: string;
  outcome: RunOutcome;
  /** Nodes it ran on, and how many of them did not succeed. */
  nodeCount: number;
  failedCount: number;
  /** Names (or ids) of the nodes that did not succeed, when read; may be fewer than failedCount. */
  failedNodes: readonly string[];
  /** Why the run itself failed (SendCommand refused), when it did. */
  reason?: string;
}

/** How a run ended up, from its status and its node outcome counts. */
export function runOutcome(run: CommandRun): RunOutcome {
  switch (run.status) {
    case 'denied':
      return 'denied';
    case 'failed':
      return 'failed';
    case 'finished': {
      if (run.end === 'no-nodes' || run.end === 'no-online-nodes') return 'no-nodes';
      const { total, failed } = nodeTally(run);
      if (failed === 0) return 'succeeded';
      return failed < total ? 'partial' : 'failed';
    }
    default:
      return 'in-progress';
  }
}

function nodeTally(run: CommandRun): { total: number; failed: number } {
  let total = 0;
  let failed = 0;
  for (const [outcome, n] of Object.entries(run.counts ?? {})) {
    total += n ?? 0;
    if (outcome !== 'succeeded') failed += n ?? 0;
  }
  return { total, failed };
}

/** The digest's view of a run; `failedNodes` are the names of its failed nodes, when the caller read them. */
export function digestRun(run: CommandRun, failedNodes: readonly string[] = []): DigestRun {
  const { total, failed } = nodeTally(run);
  return {
    id: run.id,
    snippet: run.snippet,
    target: run.target,
    requester: run.requester,
    at: run.requestedAt,
    outcome: runOutcome(run),
    nodeCount: total,
    failedCount: failed,
    failedNodes,
    ...(run.status === 'failed' && run.failureReason !== undefined ? { reason: run.failureReason } : {}),
  };
}

export function isRunFailure(run: Pick<DigestRun, 'outcome'>): boolean {
  return run.outcome === 'failed' || run.outcome === 'partial';
}

export interface DigestInput {
  day: LocalDay;
  /** When the digest is composed: open sessions count up to it. */
  now: string;
  account: AwsAccount;
  people: Readonly<Record<string, Person>>;
  /**
   * Grants requested during the day, plus any requested earlier that could still have been alive in
   * it (for extensions, and for naming who owned a session). Duplicates are ignored.
   */
  grants: readonly Grant[];
  /** Sessions that started during the day. */
  sessions: readonly Session[];
  runs: readonly DigestRun[];
  /** Anomalies recorded during the day. */
  anomalies: readonly Anomaly[];
  /** Grants active at `now`. */
  activeNow: readonly Grant[];
}

/** A session as the digest names it: a Slack user when Keyturn knows who it was, else the IAM owner. */
export interface DigestSession {
  id: string;
  person?: string;
  owner?: string;
  target?: string;
  nodeId?: string;
  nodeName?: string;
  document?: SessionDocument;
  startedAt?: string;
  seconds: number;
  open: boolean;
  /** Matched no grant: an anomaly. */
  unmatched: boolean;
}

export interface PersonTally {
  person?: string;
  owner?: string;
  count: number;
  seconds: number;
}

export interface TargetTally {
  /** Undefined for sessions that matched no grant. */
  target?: string;
  count: number;
  seconds: number;
}

export interface DigestView {
  day: LocalDay;
  now: string;
  /** Nothing happened and nothing is active: the digest is one line. */
  empty: boolean;
  requests: {
    total: number;
    outcomes: Record<RequestOutcome, number>;
    /** From request to the deciding approval or denial, over the day's decided requests. */
    decision: { count: number; medianSeconds?: number; maxSeconds?: number };
  };
  extensions: { requested: number; extended: number; denied: number };
  sessions: {
    count: number;
    seconds: number;
    open: number;
    byPerson: PersonTally[];
    byTarget: TargetTally[];
    longest?: DigestSession;
  };
  runs: { total: number; outcomes: Record<RunOutcome, number>; failures: DigestRun[] };
  activeNow: { grantId: string; requester: string; target: string; expiresAt?: string; ending: boolean }[];
  anomalies: {
    total: number;
    unmatchedSessions: DigestSession[];
    orphanPolicies: Extract<Anomaly, { kind: 'orphan-policy-removed' }>[];
    /** Revokes that could not end their sessions, and revokes still failing past their due time. */
    failedRevocations: Extract<Anomaly, { kind: 'sessions-not-ended' | 'revoke-failed' }>[];
  };
}

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function median(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

/** Largest first, then by name, so the same data always reads the same way (and golden files hold). */
function byWeight<T extends { count: number; seconds: number }>(key: (t: T) => string) {
  return (a: T, b: T) => b.seconds - a.seconds || b.count - a.count || key(a).localeCompare(key(b));
}

/** What the digest knows of a grant once it has been folded: enough to name a session's person and target. */
interface GrantOwner {
  requester: string;
  target: string;
}

/**
 * A day's digest being composed page by page: the reader hands over one page of grants or sessions at
 * a time and the page is folded into these tallies, so a day of 100,000 sessions is never held at
 * once. Grants are folded first (a session is named after its grant), then sessions, then
 * `finishDigest` adds the small reads (runs, anomalies, grants active now). Pure: no I/O, no clock.
 */
export interface DigestTally {
  readonly context: DigestContext;
  /** Every grant folded so far, by id, as sessions need it. */
  readonly owners: Map<string, GrantOwner>;
  requested: number;
  readonly outcomes: Record<RequestOutcome, number>;
  readonly decisionSeconds: number[];
  readonly extensions: { requested: number; extended: number; denied: number };
  sessionCount: number;
  sessionSeconds: number;
  openSessions: number;
  readonly people: Map<string, PersonTally>;
  readonly targets: Map<string, TargetTally>;
  longest?: DigestSession;
  readonly unmatchedSessions: DigestSession[];
  /** peopleOwning per session owner ARN, computed once per owner. */
  readonly ownerPeople: Map<string, string | undefined>;
}

/** What every part of the composition needs. */
export type DigestContext = Pick<DigestInput, 'day' | 'now' | 'account' | 'people'>;

export function startDigest(context: DigestContext): DigestTally {
  return {
    context,
    owners: new Map(),
    requested: 0,
    outcomes: zeroes(REQUEST_OUTCOMES),
    decisionSeconds: [],
    extensions: { requested: 0, extended: 0, denied: 0 },
    sessionCount: 0,
    sessionSeconds: 0,
    openSessions: 0,
    people: new Map(),
    targets: new Map(),
    unmatchedSessions: [],
    ownerPeople: new Map(),
  };
}

/** Folds one page of grants: requests of the day, extensions decided in it, and who owns what. A grant read twice counts once. */
export function foldGrants(tally: DigestTally, grants: Iterable<Grant>): void {
  const { day } = tally.context;
  for (const g of grants) {
    if (tally.owners.has(g.id)) continue;
    tally.owners.set(g.id, { requester: g.requester, target: g.target });
    if (inDay(day, g.requestedAt)) {
      tally.requested++;
      const outcome = requestOutcome(g);
      tally.outcomes[outcome]++;
      if (
        g.decidedAt !== undefined &&
        outcome !== 'pending' &&
        outcome !== 'lapsed' &&
        outcome !== 'cancelled'
      )
        tally.decisionSeconds.push(Math.max(0, (Date.parse(g.decidedAt) - Date.parse(g.requestedAt)) / 1000));
    }
    for (const h of g.history) {
      if (!inDay(day, h.at)) continue;
      if (h.event === 'extension-requested') tally.extensions.requested++;
      else if (h.event === 'extended') tally.extensions.extended++;
      else if (h.event === 'extension-denied') tally.extensions.denied++;
    }
  }
}

/** Folds one page of sessions into the tallies; only anomalies (sessions that matched no grant) are kept. */
export function foldSessions(tally: DigestTally, sessions: Iterable<Session>): void {
  for (const session of sessions) {
    if (!inDay(tally.context.day, session.startedAt)) continue;
    const s = digestSession(session, tally);
    tally.sessionCount++;
    tally.sessionSeconds += s.seconds;
    if (s.open) tally.openSessions++;
    if (s.unmatched) tally.unmatchedSessions.push(s);
    const personKey = s.person ?? `arn:${s.owner ?? '?'}`;
    let p = tally.people.get(personKey);
    if (p === undefined) {
      p = {
        ...(s.person === undefined ? { owner: s.owner ?? 'unknown' } : { person: s.person }),
        count: 0,
        seconds: 0,
      };
      tally.people.set(personKey, p);
    }
    p.count++;
    p.seconds += s.seconds;
    const targetKey = s.target ?? '';
    let t = tally.targets.get(targetKey);
    if (t === undefined) {
      t = { ...(s.target === undefined ? {} : { target: s.target }), count: 0, seconds: 0 };
      tally.targets.set(targetKey, t);
    }
    t.count++;
    t.seconds += s.seconds;
    const { longest } = tally;
    if (
      longest === undefined ||
      s.seconds > longest.seconds ||
      (s.seconds === longest.seconds && s.id < longest.id)
    )
      tally.longest = s;
  }
}

/** The digest, from the folded grants and sessions and the day's (few) runs, anomalies and active grants. */
export function finishDigest(
  tally: DigestTally,
  rest: Pick<DigestInput, 'runs' | 'anomalies' | 'activeNow'>,
): DigestView {
  const { day, now } = tally.context;
  const decisionSeconds = [...tally.decisionSeconds].sort((a, b) => a - b);
  const { extensions } = tally;

  const runs = rest.runs.filter((r) => inDay(day, r.at));
  const runOutcomes = zeroes(RUN_OUTCOMES);
  for (const r of runs) runOutcomes[r.outcome]++;
  const failures = runs
    .filter(isRunFailure)
    .sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));

  const activeNow = rest.activeNow
    .filter((g) => g.status === 'active')
    .map((g) => ({
      grantId: g.id,
      requester: g.requester,
      target: g.target,
      ...(g.expiresAt === undefined ? {} : { expiresAt: g.expiresAt }),
      ending: g.ending !== undefined,
    }))
    .sort(
      (a, b) => (a.expiresAt ?? '').localeCompare(b.expiresAt ?? '') || a.grantId.localeCompare(b.grantId),
    );

  const dayAnomalies = rest.anomalies.filter((a) => inDay(day, a.at));
  const byTime = <T extends { at: string }>(a: T, b: T) => a.at.localeCompare(b.at);
  const orphanPolicies = dayAnomalies
    .filter(
      (a): a is Extract<Anomaly, { kind: 'orphan-policy-removed' }> => a.kind === 'orphan-policy-removed',
    )
    .sort(byTime);
  const failedRevocations = dayAnomalies
    .filter(
      (a): a is Extract<Anomaly, { kind: 'sessions-not-ended' | 'revoke-failed' }> =>
        a.kind === 'sessions-not-ended' || a.kind === 'revoke-failed',
    )
    .sort(byTime);
  const unmatchedSessions = [...tally.unmatchedSessions].sort(
    (a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.id.localeCompare(b.id),
  );
  const anomalyTotal = unmatchedSessions.length + orphanPolicies.length + failedRevocations.length;

  const view: DigestView = {
    day,
    now,
    empty:
      tally.requested === 0 &&
      extensions.requested + extensions.extended + extensions.denied === 0 &&
      tally.sessionCount === 0 &&
      runs.length === 0 &&
      activeNow.length === 0 &&
      anomalyTotal === 0,
    requests: {
      total: tally.requested,
      outcomes: { ...tally.outcomes },
      decision: {
        count: decisionSeconds.length,
        ...(decisionSeconds.length === 0
          ? {}
          : { medianSeconds: median(decisionSeconds), maxSeconds: decisionSeconds.at(-1) }),
      },
    },
    extensions: { ...extensions },
    sessions: {
      count: tally.sessionCount,
      seconds: tally.sessionSeconds,
      open: tally.openSessions,
      byPerson: [...tally.people.values()]
        .map((p) => ({ ...p }))
        .sort(byWeight((p) => p.person ?? p.owner ?? '')),
      byTarget: [...tally.targets.values()]
        .map((t) => ({ ...t }))
        .sort(byWeight((t) => t.target ?? '\uffff')),
      ...(tally.longest === undefined ? {} : { longest: tally.longest }),
    },
    runs: { total: runs.length, outcomes: runOutcomes, failures },
    activeNow,
    anomalies: { total: anomalyTotal, unmatchedSessions, orphanPolicies, failedRevocations },
  };
  return view;
}

/**
 * Composes the digest of one local day from the whole day at once. Pure: the caller reads the data
 * (by-day index queries) and the clock; the Slack adapter renders the result within Slack's limits,
 * the CLI as text. The same fold `buildDigest` runs page by page, over a single page.
 */
export function composeDigest(input: DigestInput): DigestView {
  const tally = startDigest(input);
  foldGrants(tally, input.grants);
  foldSessions(tally, input.sessions);
  return finishDigest(tally, input);
}

function digestSession(s: Session, tally: DigestTally): DigestSession {
  const grant = s.grantId === undefined ? undefined : tally.owners.get(s.grantId);
  let person = grant?.requester;
  if (person === undefined && s.owner !== undefined) person = ownerPerson(tally, s.owner);
  const target = grant?.target ?? (s.grantId === undefined ? undefined : `grant ${s.grantId}`);
  return {
    id: s.id,
    ...(person === undefined ? {} : { person }),
    ...(s.owner === undefined ? {} : { owner: s.owner }),
    ...(target === undefined ? {} : { target }),
    ...(s.node === undefined ? {} : { nodeId: s.node.id }),
    ...(s.node?.name === undefined ? {} : { nodeName: s.node.name }),
    ...(s.document === undefined ? {} : { document: s.document }),
    ...(s.startedAt === undefined ? {} : { startedAt: s.startedAt }),
    seconds: sessionSeconds(s, tally.context.now),
    open: s.status === 'active',
    unmatched: s.unmatched === true,
  };
}

/** The one mapped person who could own a session, if exactly one could. */
function ownerPerson(tally: DigestTally, owner: string): string | undefined {
  if (tally.ownerPeople.has(owner)) return tally.ownerPeople.get(owner);
  const owners = peopleOwning(owner, tally.context.people, tally.context.account);
  const person = owners.length === 1 ? owners[0] : undefined;
  tally.ownerPeople.set(owner, person);
  return person;
}
