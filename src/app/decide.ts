import {
  type Decision,
  type DecisionAction,
  decide,
  decideExtension,
  type GrantClick,
  isListedApprover,
} from '../domain/approval';
import { addMinutes, type Grant, type MessageRef, toIsoSeconds, transition } from '../domain/grant';
import { isUserGroupId, type Target } from '../domain/target';
import { answer, decideAndSave, keptChanging, type SaveStep, saveThen } from './decide-and-save';
import type { Deps } from './deps';
import { grantChanged } from './grant-updates';

export type DecideResult =
  | { outcome: 'approved' | 'approval-recorded' | 'denied'; grant: Grant }
  | {
      outcome: 'refused';
      reason: 'unknown-grant' | ClickRefusal;
      grant?: Grant;
    };

/** Why a click on an approval card is refused before anything is written. */
export type ClickRefusal =
  | 'unknown-target'
  | 'not-pending'
  | Extract<Decision, { outcome: 'refuse' }>['reason'];

/** Two approvers clicking at once: the loser re-reads and decides again on the fresh record. */
export const CLICK_RACES = 5;

/** What an approval card decides about, and the rules it is decided by. */
export interface ClickRules<T> {
  /** Whether the record still waits for this decision. */
  pending(record: T): boolean;
  decide(record: T, click: Omit<GrantClick, 'grant'>): Decision;
}

export const REQUEST_CLICK: ClickRules<Grant> = {
  pending: (grant) => grant.status === 'pending',
  decide: (grant, click) => decide({ grant, ...click }),
};

export const EXTENSION_CLICK: ClickRules<Grant> = {
  pending: (grant) =>
    grant.extension?.state === 'pending' && grant.status === 'active' && !grant.ending && !!grant.expiresAt,
  decide: (grant, click) => decideExtension({ grant, ...click }),
};

/**
 * The rules' answer to a click on a request's, an extension's or a run's card: the target must still
 * be configured and the record still pending (checked first, so a click on a decided card costs no
 * user-group lookup), then the clicker is looked up among the approvers.
 */
export async function judgeClick<T extends { target: string }>(
  deps: Pick<Deps, 'config' | 'chat'>,
  record: T,
  click: { clicker: string; action: DecisionAction },
  rules: ClickRules<T>,
): Promise<
  { refused: ClickRefusal } | { target: Target; decision: Exclude<Decision, { outcome: 'refuse' }> }
> {
  const target = deps.config.targets[record.target];
  if (!target) return { refused: 'unknown-target' };
  if (!rules.pending(record)) return { refused: 'not-pending' };
  const clickerIsApprover = await isApprover(deps, target, click.clicker);
  const decision = rules.decide(record, {
    target,
    clicker: click.clicker,
    clickerIsApprover,
    action: click.action,
  });
  return decision.outcome === 'refuse' ? { refused: decision.reason } : { target, decision };
}

/**
 * An Approve or Deny click (or the deny modal's submit). One conditional write decides it;
 * a double click, a Slack retry or a concurrent approver can never approve twice.
 */
export async function decideOnGrant(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'chat' | 'clock'>,
  input: { grantId: string; clicker: string; action: DecisionAction; denyReason?: string; card?: MessageRef },
): Promise<DecideResult> {
  return decideAndSave(
    deps.grants,
    input.grantId,
    async (grant): Promise<SaveStep<Grant, DecideResult>> => {
      if (!grant) return answer({ outcome: 'refused', reason: 'unknown-grant' });
      const judged = await judgeClick(deps, grant, input, REQUEST_CLICK);
      if ('refused' in judged) return answer({ outcome: 'refused', reason: judged.refused, grant });
      const { decision } = judged;

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
      if (!next.ok) return answer({ outcome: 'refused', reason: 'not-pending', grant });

      return saveThen(next.value, async (saved) => {
        await deps.queue.enqueue(grantChanged(saved));
        if (saved.status === 'approved') await deps.queue.enqueue({ kind: 'apply-grant', grantId: grant.id });
        return { outcome: clickOutcome(decision), grant: saved };
      });
    },
    {
      attempts: CLICK_RACES,
      exhausted: keptChanging('grant', input.grantId, CLICK_RACES, 'decide'),
    },
  );
}

/** What a click that was not refused did, in the words of the answer to the clicker. */
export function clickOutcome(
  decision: Exclude<Decision, { outcome: 'refuse' }>,
): 'approved' | 'approval-recorded' | 'denied' {
  return decision.outcome === 'deny'
    ? 'denied'
    : decision.outcome === 'approve'
      ? 'approved'
      : 'approval-recorded';
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
  const judged = await judgeClick(deps, grant, input, opts.extension ? EXTENSION_CLICK : REQUEST_CLICK);
  return 'refused' in judged
    ? { outcome: 'refused', reason: judged.refused, grant }
    : { outcome: 'allowed', grant };
}
