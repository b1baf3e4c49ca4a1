import type { Principal } from './principal';
import { err, ok, type Result } from './result';

export const GRANT_STATUSES = [
  'pending',
  'approved',
  'active',
  'expired',
  'revoked',
  'released',
  'denied',
  'cancelled',
  'lapsed',
  'failed',
] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** DESIGN.md "State": the only moves a grant can make. A pending grant may also stay pending while approvals accumulate. */
const NEXT: Record<GrantStatus, readonly GrantStatus[]> = {
  pending: ['pending', 'approved', 'denied', 'cancelled', 'lapsed'],
  approved: ['active', 'failed'],
  // active → active records extension bookkeeping; active → failed marks a grant whose policy vanished (issue 3).
  active: ['active', 'expired', 'revoked', 'released', 'failed'],
  expired: [],
  revoked: [],
  released: [],
  denied: [],
  cancelled: [],
  lapsed: [],
  failed: [],
};

/** Statuses in which a requester holds (or is about to hold) access to a target: one at a time. */
export const OPEN_STATUSES: readonly GrantStatus[] = ['pending', 'approved', 'active'];

export function isOpen(status: GrantStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export interface Approval {
  by: string;
  at: string;
}

/** What a history entry records beyond its status move, for moves that keep the status. */
export type HistoryEvent =
  | 'approval-recorded'
  | 'ending-requested'
  | 'extension-requested'
  | 'extension-approval-recorded'
  | 'extension-approved'
  | 'extension-denied'
  | 'extended';

export interface HistoryEntry {
  at: string;
  from: GrantStatus | null;
  to: GrantStatus;
  event?: HistoryEvent;
  /** Slack user id, or `keyturn` for the bot's own moves. */
  by: string;
  note?: string;
}

export interface MessageRef {
  channel: string;
  ts: string;
}

/** How an active grant is to end; written first, so a crash mid-revoke is finished by the next sweep. */
export interface Ending {
  status: 'expired' | 'released' | 'revoked' | 'failed';
  by: string;
  at: string;
  reason?: string;
}

/** A request to extend an active grant; at most one is in flight (pending or approved). */
export interface Extension {
  minutes: number;
  requestedBy: string;
  requestedAt: string;
  approvals: Approval[];
  /** pending → approved → extended, or pending → denied; a new request may replace a finished one. */
  state: 'pending' | 'approved' | 'extended' | 'denied';
  /** Set at approval, like a grant's window, so a retried apply writes the same policy version. */
  newExpiresAt?: string;
  decidedBy?: string;
  decidedAt?: string;
  denyReason?: string;
  card?: MessageRef;
}

export interface Grant {
  id: string;
  /** Slack's `trigger_id` of the `/access` request: a retried or replayed request carries the same one. */
  requestKey?: string;
  requester: string;
  principal: Principal;
  target: string;
  /**
   * The account and region of the target's nodes when requested: where the policy, the access role and
   * the sessions are. Absent on grants written before Keyturn served many accounts: Keyturn's own.
   */
  account?: string;
  region?: string;
  durationMinutes: number;
  reason: string;
  status: GrantStatus;
  /** Incremented by every write; each write is conditional on the version it read. */
  version: number;
  requestedAt: string;
  approvals: Approval[];
  /** Set at approval: the policy's window is fixed then, so a retried apply renders the same document. */
  startsAt?: string;
  expiresAt?: string;
  policyArn?: string;
  decidedBy?: string;
  decidedAt?: string;
  denyReason?: string;
  failureReason?: string;
  card?: MessageRef;
  ending?: Ending;
  /** Until when one worker owns the revoke steps; a crashed owner's lease simply runs out. */
  revokeLease?: string;
  extension?: Extension;
  /** Minutes added by approved extensions; `maxTotal` (or `maxDuration`) bounds duration + this. */
  extendedMinutes?: number;
  /** The `SSMSessionRunAs` value this grant put on the principal, so revoke removes only its own tag. */
  runAsSet?: string;
  sessionsEnded?: number;
  history: HistoryEntry[];
}

export type TransitionError = { reason: 'illegal-transition'; from: GrantStatus; to: GrantStatus };

export function canTransition(from: GrantStatus, to: GrantStatus): boolean {
  return NEXT[from].includes(to);
}

/**
 * Computes the grant after a move, with its history entry appended and version bumped.
 * Pure: the store persists it with a condition on the version that was read.
 */
export function transition(
  grant: Grant,
  to: GrantStatus,
  change: {
    at: string;
    by: string;
    note?: string;
    event?: HistoryEvent;
    set?: Partial<Omit<Grant, 'id' | 'status' | 'version' | 'history'>>;
    /** Fields to remove (e.g. a finished extension). */
    unset?: readonly (keyof Grant)[];
  },
): Result<Grant, TransitionError> {
  if (!canTransition(grant.status, to)) return err({ reason: 'illegal-transition', from: grant.status, to });
  const entry: HistoryEntry = { at: change.at, from: grant.status, to, by: change.by };
  if (change.event !== undefined) entry.event = change.event;
  if (change.note !== undefined) entry.note = change.note;
  const next: Grant = { ...grant, ...change.set };
  for (const key of change.unset ?? []) delete next[key];
  return ok({ ...next, status: to, version: grant.version + 1, history: [...grant.history, entry] });
}

export function addMinutes(iso: string, minutes: number): string {
  return toIsoSeconds(new Date(Date.parse(iso) + minutes * 60_000));
}

/** IAM date conditions and Slack both read whole seconds; milliseconds only add noise to policies. */
export function toIsoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function extensionInFlight(grant: Grant): boolean {
  return grant.extension?.state === 'pending' || grant.extension?.state === 'approved';
}

/** Everything a grant has been given so far: what bounds the next extension. */
export function totalMinutes(grant: Grant): number {
  return grant.durationMinutes + (grant.extendedMinutes ?? 0);
}
