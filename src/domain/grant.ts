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
  active: ['expired', 'revoked', 'released'],
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

export interface HistoryEntry {
  at: string;
  from: GrantStatus | null;
  to: GrantStatus;
  /** Slack user id, or `keyturn` for the bot's own moves. */
  by: string;
  note?: string;
}

export interface MessageRef {
  channel: string;
  ts: string;
}

export interface Grant {
  id: string;
  requester: string;
  principal: Principal;
  target: string;
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
    set?: Partial<Omit<Grant, 'id' | 'status' | 'version' | 'history'>>;
  },
): Result<Grant, TransitionError> {
  if (!canTransition(grant.status, to)) return err({ reason: 'illegal-transition', from: grant.status, to });
  const entry: HistoryEntry = { at: change.at, from: grant.status, to, by: change.by };
  if (change.note !== undefined) entry.note = change.note;
  return ok({
    ...grant,
    ...change.set,
    status: to,
    version: grant.version + 1,
    history: [...grant.history, entry],
  });
}

export function addMinutes(iso: string, minutes: number): string {
  return toIsoSeconds(new Date(Date.parse(iso) + minutes * 60_000));
}

/** IAM date conditions and Slack both read whole seconds; milliseconds only add noise to policies. */
export function toIsoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
