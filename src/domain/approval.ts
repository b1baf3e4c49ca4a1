import type { Approval, Grant } from './grant';
import type { Target } from './target';

export type DecisionAction = 'approve' | 'deny';

export type Decision =
  /** Record the approval; there are now enough and the request is approved. */
  | { outcome: 'approve' }
  /** Record the approval; more distinct approvers are still needed. */
  | { outcome: 'record-approval'; have: number; need: number }
  | { outcome: 'deny' }
  | {
      outcome: 'refuse';
      reason: 'not-approver' | 'self-approval' | 'already-approved-by-you' | 'not-pending';
    };

/**
 * The approval rules, for anything that needs approving: a grant request or an extension.
 * `clickerIsApprover` is resolved by the caller (direct listing or a listed user group) because that needs Slack.
 */
export function decideRequest(input: {
  pending: boolean;
  requester: string;
  approvals: readonly Approval[];
  target: Target;
  clicker: string;
  clickerIsApprover: boolean;
  action: DecisionAction;
}): Decision {
  const { target, clicker, action } = input;
  if (!input.pending) return { outcome: 'refuse', reason: 'not-pending' };
  if (!input.clickerIsApprover) return { outcome: 'refuse', reason: 'not-approver' };
  // The requester may withdraw with cancel, but never decides on their own access unless the target allows it.
  if (clicker === input.requester && !target.selfApproval)
    return { outcome: 'refuse', reason: 'self-approval' };
  if (action === 'deny') return { outcome: 'deny' };
  if (input.approvals.some((a) => a.by === clicker))
    return { outcome: 'refuse', reason: 'already-approved-by-you' };
  const have = input.approvals.length + 1;
  if (have >= target.approvals) return { outcome: 'approve' };
  return { outcome: 'record-approval', have, need: target.approvals };
}

/** A click on a card that decides about a grant: its request or its extension. */
export interface GrantClick {
  grant: Grant;
  target: Target;
  clicker: string;
  clickerIsApprover: boolean;
  action: DecisionAction;
}

/** A click on a grant request's card. */
export function decide(input: GrantClick): Decision {
  return decideGrantClick(input, input.grant.status === 'pending', input.grant.approvals);
}

/** A click on an extension's card: the same rules, applied to the extension's own approvals. */
export function decideExtension(input: GrantClick): Decision {
  const { grant } = input;
  const extension = grant.extension;
  return decideGrantClick(
    input,
    grant.status === 'active' && !grant.ending && extension?.state === 'pending',
    extension?.approvals ?? [],
  );
}

function decideGrantClick(input: GrantClick, pending: boolean, approvals: readonly Approval[]): Decision {
  const { grant, ...rest } = input;
  return decideRequest({ ...rest, pending, requester: grant.requester, approvals });
}

export function isListedApprover(target: Target, user: string, groupsOfUser: ReadonlySet<string>): boolean {
  return target.approvers.some((id) => id === user || groupsOfUser.has(id));
}
