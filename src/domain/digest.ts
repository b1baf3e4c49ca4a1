/**
 * The daily digest as a fold: start a tally for a day, fold pages of grants and sessions into it,
 * finish with the day's runs, anomalies and active grants. Calendar arithmetic lives in
 * digest-day.ts, request and run outcomes in digest-outcome.ts, the plain-text rendering in digest-text.ts.
 */
import type { Anomaly } from './anomaly';
import { inDay, type LocalDay } from './digest-day';
import {
  type DigestRun,
  isRunFailure,
  REQUEST_OUTCOMES,
  type RequestOutcome,
  RUN_OUTCOMES,
  type RunOutcome,
  requestOutcome,
} from './digest-outcome';
import type { Grant } from './grant';
import type { Person } from './person';
import { accountLabel, recordPlace, type ServedPlaces, servedPlaces, whereShown } from './place';
import type { AwsAccount } from './principal';
import { peopleOwning, type Session, type SessionDocument, sessionSeconds } from './session';

// The digest's vocabulary in one import for its readers (ports, adapters, the CLI).
export {
  addDays,
  dayLabel,
  formatElapsed,
  inDay,
  isIsoDate,
  type LocalDay,
  localDateOf,
  localDay,
  localTimeOf,
  previousLocalDay,
  utcDatesCovering,
} from './digest-day';
export {
  type DigestRun,
  digestRun,
  isRunFailure,
  REQUEST_OUTCOMES,
  type RequestOutcome,
  RUN_OUTCOME_WORDS,
  RUN_OUTCOMES,
  type RunOutcome,
  requestOutcome,
  runOutcome,
} from './digest-outcome';

export interface DigestInput {
  day: LocalDay;
  /** When the digest is composed: open sessions count up to it. */
  now: string;
  /** Keyturn's partition, own account and region, and every account it serves (`Config.aws`). */
  account: AwsAccount & ServedPlaces;
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
  /** The session's account and region, when Keyturn serves more than one place (place.ts whereShown). */
  where?: string;
}

export interface PersonTally {
  person?: string;
  owner?: string;
  count: number;
  seconds: number;
}

/** What happened in one account, or on one target, during the day. */
export interface PlaceTotals {
  /** Requests made during the day. */
  requests: number;
  /** Sessions started during the day, and their time (open ones up to now). */
  sessions: number;
  seconds: number;
  /** Run Command runs requested during the day. */
  runs: number;
}

export interface AccountTotals extends PlaceTotals {
  accountId: string;
  /** `factory (444455556666)`, or the bare id without an alias. */
  label: string;
}

export interface TargetTotals extends PlaceTotals {
  /** Undefined for sessions no grant explains (their place is not known). */
  target?: string;
  accountId?: string;
  region?: string;
  /** `factory (444455556666), ap-northeast-3`; absent when Keyturn serves one place only (place.ts whereShown). */
  where?: string;
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
    longest?: DigestSession;
  };
  runs: { total: number; outcomes: Record<RunOutcome, number>; failures: DigestRun[] };
  /**
   * Totals per account and per target (issue 14): requests, sessions and runs. `onePlace`: Keyturn serves
   * one account in one region, so the per-account totals only repeat the day's.
   */
  totals: { onePlace: boolean; byAccount: AccountTotals[]; byTarget: TargetTotals[] };
  activeNow: {
    grantId: string;
    requester: string;
    target: string;
    /** Where the grant is, when Keyturn serves more than one place (place.ts whereShown). */
    where?: string;
    expiresAt?: string;
    ending: boolean;
  }[];
  anomalies: {
    total: number;
    unmatchedSessions: DigestSession[];
    orphanPolicies: Extract<Anomaly, { kind: 'orphan-policy-removed' }>[];
    /** Revokes that could not end their sessions, and revokes still failing past their due time. */
    failedRevocations: Extract<Anomaly, { kind: 'sessions-not-ended' | 'revoke-failed' }>[];
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
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

/**
 * What the digest knows of a grant once it has been folded: enough to name a session's person and
 * target, and where it was. The totals are shared by every grant on the target in that place, so a day
 * of 100,000 grants holds one reference each, not their places (issue 13: memory stays flat).
 */
interface GrantOwner {
  requester: string;
  totals: TargetTotals;
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
  /** Requests, sessions and runs per target and place (`<target>|<account>/<region>`; '' for no grant). */
  readonly places: Map<string, TargetTotals>;
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
    places: new Map(),
    unmatchedSessions: [],
    ownerPeople: new Map(),
  };
}

/** Folds one page of grants: requests of the day, extensions decided in it, and who owns what. A grant read twice counts once. */
export function foldGrants(tally: DigestTally, grants: Iterable<Grant>): void {
  const { day } = tally.context;
  for (const g of grants) {
    if (tally.owners.has(g.id)) continue;
    const totals = targetTotals(tally, g.target, g);
    tally.owners.set(g.id, { requester: g.requester, totals });
    if (inDay(day, g.requestedAt)) {
      tally.requested++;
      totals.requests++;
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
    const grant = session.grantId === undefined ? undefined : tally.owners.get(session.grantId);
    const totals = grant?.totals ?? targetTotals(tally, undefined, undefined);
    totals.sessions++;
    totals.seconds += s.seconds;
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
  const totals = placeTotals(tally, runs);
  const failures = runs
    .filter(isRunFailure)
    .sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));

  const activeNow = rest.activeNow
    .filter((g) => g.status === 'active')
    .map((g) => ({
      grantId: g.id,
      requester: g.requester,
      target: g.target,
      ...optional('where', whereShown(tally.context.account, g)),
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
      ...(tally.longest === undefined ? {} : { longest: tally.longest }),
    },
    runs: { total: runs.length, outcomes: runOutcomes, failures },
    totals,
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

/**
 * The totals of `target` in `record`'s place (Keyturn's own for records without one), made on first
 * use; no target: the sessions no grant explains.
 */
function targetTotals(
  tally: DigestTally,
  target: string | undefined,
  record: { account?: string; region?: string } | undefined,
): TargetTotals {
  const served = tally.context.account;
  const place = target === undefined || record === undefined ? undefined : recordPlace(served, record);
  const key = place === undefined ? '' : `${target}|${place.accountId}/${place.region}`;
  let totals = tally.places.get(key);
  if (totals === undefined) {
    const where =
      place === undefined
        ? undefined
        : whereShown(served, { account: place.accountId, region: place.region });
    totals = {
      ...(target === undefined || place === undefined
        ? {}
        : { target, accountId: place.accountId, region: place.region }),
      ...(where === undefined ? {} : { where }),
      requests: 0,
      sessions: 0,
      seconds: 0,
      runs: 0,
    };
    tally.places.set(key, totals);
  }
  return totals;
}

/** The day's totals per target and per account, with the day's runs counted in. */
function placeTotals(tally: DigestTally, runs: readonly DigestRun[]): DigestView['totals'] {
  for (const r of runs) targetTotals(tally, r.target, r).runs++;
  const served = tally.context.account;
  const accounts = new Map<string, AccountTotals>();
  // Every served account is listed, busy or not, Keyturn's own first, in config order.
  for (const a of Object.values(served.accounts))
    accounts.set(a.accountId, {
      accountId: a.accountId,
      label: accountLabel(a),
      requests: 0,
      sessions: 0,
      seconds: 0,
      runs: 0,
    });
  for (const t of tally.places.values()) {
    if (t.accountId === undefined) continue;
    let a = accounts.get(t.accountId);
    if (a === undefined) {
      a = {
        accountId: t.accountId,
        label: accountLabel({ accountId: t.accountId }),
        requests: 0,
        sessions: 0,
        seconds: 0,
        runs: 0,
      };
      accounts.set(t.accountId, a);
    }
    a.requests += t.requests;
    a.sessions += t.sessions;
    a.seconds += t.seconds;
    a.runs += t.runs;
  }
  const busy = (t: PlaceTotals) => t.requests + t.sessions + t.runs > 0;
  const byTarget = [...tally.places.values()]
    .filter(busy)
    .map((t) => ({ ...t }))
    .sort(
      (a, b) =>
        Number(a.target === undefined) - Number(b.target === undefined) ||
        b.requests + b.sessions + b.runs - (a.requests + a.sessions + a.runs) ||
        b.seconds - a.seconds ||
        (a.target ?? '').localeCompare(b.target ?? '') ||
        (a.where ?? '').localeCompare(b.where ?? ''),
    );
  const places = servedPlaces(served.accounts);
  const onePlace = places.length === 1 && byTarget.every((t) => t.where === undefined);
  return { onePlace, byAccount: [...accounts.values()], byTarget };
}

function digestSession(s: Session, tally: DigestTally): DigestSession {
  const grant = s.grantId === undefined ? undefined : tally.owners.get(s.grantId);
  let person = grant?.requester;
  if (person === undefined && s.owner !== undefined) person = ownerPerson(tally, s.owner);
  const target = grant?.totals.target ?? (s.grantId === undefined ? undefined : `grant ${s.grantId}`);
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
    ...optional('where', whereShown(tally.context.account, s)),
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
