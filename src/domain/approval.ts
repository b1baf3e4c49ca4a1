import type { Grant } from './grant';
import type { Target } from './target';

export type DecisionAction = 'approve' | 'deny';

export type Decision =
  /** Record the approval; the grant has enough approvals and becomes `approved`. */
  | { outcome: 'approve' }
  /** Record the approval; more distinct approvers are still needed. */
  | { outcome: 'record-approval'; have: number; need: number }
  | { outcome: 'deny' }
  | {
      outcome: 'refuse';
      reason: 'not-approver' | 'self-approval' | 'already-approved-by-you' | 'not-pending';
    };

/**
 * Decides what a click on Approve or Deny means. `clickerIsApprover` is resolved by the caller
 * (direct listing or membership of a listed user group) because that needs Slack.
 */
export function decide(input: {
  grant: Grant;
  target: Target;
  clicker: string;
  clickerIsApprover: boolean;
  action: DecisionAction;
}): Decision {
  const { grant, target, clicker, clickerIsApprover, action } = input;
  if (grant.status !== 'pending') return { outcome: 'refuse', reason: 'not-pending' };
  if (!clickerIsApprover) return { outcome: 'refuse', reason: 'not-approver' };
  const isRequester = clicker === grant.requester;
  // The requester may withdraw with cancel, but never decides on their own access unless the target allows it.
  if (isRequester && !target.selfApproval) return { outcome: 'refuse', reason: 'self-approval' };
  if (action === 'deny') return { outcome: 'deny' };
  if (grant.approvals.some((a) => a.by === clicker))
    return { outcome: 'refuse', reason: 'already-approved-by-you' };
  const have = grant.approvals.length + 1;
  if (have >= target.approvals) return { outcome: 'approve' };
  return { outcome: 'record-approval', have, need: target.approvals };
}

export function isListedApprover(target: Target, user: string, groupsOfUser: ReadonlySet<string>): boolean {
  return target.approvers.some((id) => id === user || groupsOfUser.has(id));
}
