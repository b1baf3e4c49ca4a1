import { type DecisionAction, decide, decideExtension, isListedApprover } from '../domain/approval';
import { addMinutes, type Grant, type MessageRef, toIsoSeconds, transition } from '../domain/grant';
import { isUserGroupId, type Target } from '../domain/target';
import type { Deps } from './deps';

export type DecideResult =
  | { outcome: 'approved' | 'approval-recorded' | 'denied'; grant: Grant }
  | {
      outcome: 'refused';
      reason:
        | 'unknown-grant'
        | 'unknown-target'
        | 'not-approver'
        | 'self-approval'
        | 'already-approved-by-you'
        | 'not-pending';
      grant?: Grant;
    };

/** Two approvers clicking at once: the loser re-reads and decides again on the fresh grant. */
const MAX_RACES = 5;

/**
 * An Approve or Deny click (or the deny modal's submit). One conditional write decides it;
 * a double click, a Slack retry or a concurrent approver can never approve twice.
 */
export async function decideOnGrant(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'chat' | 'clock'>,
  input: { grantId: string; clicker: string; action: DecisionAction; denyReason?: string; card?: MessageRef },
): Promise<DecideResult> {
  for (let race = 0; race < MAX_RACES; race++) {
    const grant = await deps.grants.get(input.grantId);
    if (!grant) return { outcome: 'refused', reason: 'unknown-grant' };
    const target = deps.config.targets[grant.target];
    if (!target) return { outcome: 'refused', reason: 'unknown-target', grant };
    // Status first: a click on a decided card must not cost a user-group lookup.
    if (grant.status !== 'pending') return { outcome: 'refused', reason: 'not-pending', grant };

    const clickerIsApprover = await isApprover(deps, target, input.clicker);
    const decision = decide({
      grant,
      target,
      clicker: input.clicker,
      clickerIsApprover,
      action: input.action,
    });
    if (decision.outcome === 'refuse') return { outcome: 'refused', reason: decision.reason, grant };

    const now = toIsoSeconds(deps.clock.now());
    const card = grant.card ?? input.card;
    const next =
      decision.outcome === 'deny'
        ? transition(grant, 'denied', {
            at: now,
            by: input.clicker,
            ...(input.denyReason ? { note: input.denyReason } : {}),
            set: {
              decidedBy: input.clicker,
              decidedAt: now,
              ...(input.denyReason ? { denyReason: input.denyReason } : {}),
              ...(card ? { card } : {}),
            },
          })
        : decision.outcome === 'approve'
          ? transition(grant, 'approved', {
              at: now,
              by: input.clicker,
              set: {
                approvals: [...grant.approvals, { by: input.clicker, at: now }],
                decidedBy: input.clicker,
                decidedAt: now,
                // The window is fixed at approval so every retry of the apply renders the same policy.
                startsAt: now,
                expiresAt: addMinutes(now, grant.durationMinutes),
                ...(card ? { card } : {}),
              },
            })
          : transition(grant, 'pending', {
              at: now,
              by: input.clicker,
              event: 'approval-recorded',
              note: `approval ${decision.have} of ${decision.need}`,
              set: {
                approvals: [...grant.approvals, { by: input.clicker, at: now }],
                ...(card ? { card } : {}),
              },
            });
    if (!next.ok) return { outcome: 'refused', reason: 'not-pending', grant };

    if ((await deps.grants.save(next.value, grant.version)) === 'stale') continue;

    const step = next.value.history.length - 1;
    await deps.queue.enqueue({ kind: 'grant-changed', grantId: grant.id, step });
    if (next.value.status === 'approved')
      await deps.queue.enqueue({ kind: 'apply-grant', grantId: grant.id });
    const outcome =
      decision.outcome === 'deny'
        ? 'denied'
        : decision.outcome === 'approve'
          ? 'approved'
          : 'approval-recorded';
    return { outcome, grant: next.value };
  }
  throw new Error(`grant ${input.grantId} kept changing under ${MAX_RACES} attempts to decide`);
}

export async function isApprover(deps: Pick<Deps, 'chat'>, target: Target, user: string): Promise<boolean> {
  if (isListedApprover(target, user, new Set())) return true;
  const groups = new Set<string>();
  for (const id of target.approvers.filter(isUserGroupId)) {
    if ((await deps.chat.userGroupMembers(id)).includes(user)) groups.add(id);
  }
  return isListedApprover(target, user, groups);
}

/**
 * Whether a click would be accepted, without writing anything: the Deny buttons open a modal only
 * for someone who may deny, so others are refused before they type a reason.
 */
export async function previewDecision(
  deps: Pick<Deps, 'config' | 'grants' | 'chat'>,
  input: { grantId: string; clicker: string; action: DecisionAction },
  opts: { extension?: boolean } = {},
): Promise<Extract<DecideResult, { outcome: 'refused' }> | { outcome: 'allowed'; grant: Grant }> {
  const grant = await deps.grants.get(input.grantId);
  if (!grant) return { outcome: 'refused', reason: 'unknown-grant' };
  const target = deps.config.targets[grant.target];
  if (!target) return { outcome: 'refused', reason: 'unknown-target', grant };
  const rules = opts.extension ? decideExtension : decide;
  const pending = opts.extension ? grant.extension?.state === 'pending' : grant.status === 'pending';
  if (!pending) return { outcome: 'refused', reason: 'not-pending', grant };
  const clickerIsApprover = await isApprover(deps, target, input.clicker);
  const decision = rules({ grant, target, clicker: input.clicker, clickerIsApprover, action: input.action });
  return decision.outcome === 'refuse'
    ? { outcome: 'refused', reason: decision.reason, grant }
    : { outcome: 'allowed', grant };
}
