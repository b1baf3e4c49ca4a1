import { samePlace, servedPlaces } from '../domain/place';
import type { Session, SessionObservation } from '../domain/session';
import { announceSession, nodeDirectory, observe, type TrackingDeps } from './session-tracking';

/**
 * A CloudTrail record of a Session Manager API call as EventBridge delivers it (FACTS.md: source
 * `aws.ssm`, detail-type `AWS API Call via CloudTrail`). Only the fields Keyturn reads; the handler
 * passes the event through as it came, so every field is treated as possibly missing.
 */
export interface SessionApiCallEvent {
  source?: string;
  /** The account and region the call was made in (a member account's events are forwarded to Keyturn's bus). */
  account?: string;
  region?: string;
  'detail-type'?: string;
  detail?: {
    eventSource?: string;
    eventName?: string;
    eventTime?: string;
    /** Present when the call failed (AccessDenied, TargetNotConnected): no session was opened or closed. */
    errorCode?: string;
    userIdentity?: { arn?: string };
    requestParameters?: { target?: string; documentName?: string | null; sessionId?: string } | null;
    responseElements?: { sessionId?: string } | null;
  };
}

/**
 * `not-served`: the call was made in an account or region Keyturn does not serve (a forwarding rule
 * left behind, a region not declared): no grant there to match, and never one of another place's.
 */
export type IgnoredReason = 'not-a-session-call' | 'failed-call' | 'incomplete' | 'not-served';

export type ParsedSessionEvent =
  | { ok: true; observation: SessionObservation }
  | { ok: false; reason: IgnoredReason };

const SESSION_CALLS = new Set(['StartSession', 'ResumeSession', 'TerminateSession']);

/** Reads a CloudTrail session call into an observation; anything else is ignored with a reason, never guessed at. */
export function parseSessionEvent(event: unknown): ParsedSessionEvent {
  const detail = (event as SessionApiCallEvent | null)?.detail;
  const name = detail?.eventName;
  if (!detail || typeof name !== 'string' || !SESSION_CALLS.has(name))
    return { ok: false, reason: 'not-a-session-call' };
  if (detail.eventSource !== undefined && detail.eventSource !== 'ssm.amazonaws.com')
    return { ok: false, reason: 'not-a-session-call' };
  if (detail.errorCode) return { ok: false, reason: 'failed-call' };
  const caller = detail.userIdentity?.arn;
  const at = detail.eventTime;
  const request = detail.requestParameters ?? {};
  const id = detail.responseElements?.sessionId ?? request.sessionId;
  if (!caller || !at || Number.isNaN(Date.parse(at)) || !id) return { ok: false, reason: 'incomplete' };
  switch (name) {
    case 'StartSession': {
      if (!request.target) return { ok: false, reason: 'incomplete' };
      const documentName = request.documentName ?? undefined;
      return {
        ok: true,
        observation: {
          source: 'start-call',
          id,
          owner: caller,
          nodeId: request.target,
          at,
          ...(documentName ? { documentName } : {}),
        },
      };
    }
    case 'ResumeSession':
      return { ok: true, observation: { source: 'resume-call', id, owner: caller, at } };
    default:
      return { ok: true, observation: { source: 'terminate-call', id, by: caller, at } };
  }
}

export type RecordSessionOutcome =
  | { outcome: 'recorded'; session: Session; posted: number }
  | { outcome: 'ignored'; reason: IgnoredReason };

/**
 * EventBridge → a CloudTrail StartSession, ResumeSession or TerminateSession call: records the
 * session (owner, node, document, start or end, the grant it belongs to) and posts what is now due:
 * the start line in the grant's thread, or the anomaly for a session no grant explains. Summaries
 * wait for DescribeSessions History (its log location), which the sweeper reads. Duplicate and
 * out-of-order events are harmless: writes are conditional and an ended session never reopens.
 */
export async function recordSessionEvent(deps: TrackingDeps, event: unknown): Promise<RecordSessionOutcome> {
  const parsed = parseSessionEvent(event);
  if (!parsed.ok) {
    if (parsed.reason !== 'failed-call') deps.logger.warn({ reason: parsed.reason }, 'session event ignored');
    return { outcome: 'ignored', reason: parsed.reason };
  }
  const envelope = event as SessionApiCallEvent;
  // An event without its envelope's account and region (a test, a replay by hand) is Keyturn's own.
  const place = {
    accountId: typeof envelope.account === 'string' ? envelope.account : deps.config.aws.accountId,
    region: typeof envelope.region === 'string' ? envelope.region : deps.config.aws.region,
  };
  if (!servedPlaces(deps.config.aws.accounts).some((served) => samePlace(served, place))) {
    deps.logger.warn(
      { reason: 'not-served', account: place.accountId, region: place.region },
      'session event ignored',
    );
    return { outcome: 'ignored', reason: 'not-served' };
  }
  const session = await observe(deps, parsed.observation, nodeDirectory(deps, place));
  const announced = await announceSession(deps, session);
  return { outcome: 'recorded', session: announced.session, posted: announced.posted };
}
