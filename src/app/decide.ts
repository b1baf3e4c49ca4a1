import { type DecisionAction, decide, decideExtension } from '../domain/approval';
import { addMinutes, type Grant, type MessageRef, toIsoSeconds, transition } from '../domain/grant';
import {
  type ClickDecision,
  type ClickRefusal,
  type ClickRules,
  clickOutcome,
  decideClick,
  judgeClick,
} from './approval-click';
import { answer, type SaveStep, saveThen } from './decide-and-save';
import type { AckDeps, Deps } from './deps';
import { grantChanged } from './grant-updates';

export type DecideResult =
  | { outcome: 'approved' | 'approval-recorded' | 'denied'; grant: Grant }
  | {
      outcome: 'refused';
      reason: 'unknown-grant' | ClickRefusal;
      grant?: Grant;
    };

/** A request's card: pending until decided. */
export const REQUEST_CLICK: ClickRules<Grant> = {
  pending: (grant) => grant.status === 'pending',
  decide: (grant, click) => decide({ grant, ...click }),
};

/** An extension's card: pending while the grant is still active and not ending. */
export const EXTENSION_CLICK: ClickRules<Grant> = {
  pending: (grant) =>
    grant.extension?.state === 'pending' && grant.status === 'active' && !grant.ending && !!grant.expiresAt,
  decide: (grant, click) => decideExtension({ grant, ...click }),
};

/**
 * An Approve or Deny click (or the deny modal's submit). One conditional write decides it;
 * a double click, a Slack retry or a concurrent approver can never approve twice.
 */
export async function decideOnGrant(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'clock'> & Pick<AckDeps, 'chat'>,
  input: { grantId: string; clicker: string; action: DecisionAction; denyReason?: string; card?: MessageRef },
): Promise<DecideResult> {
  return decideGrantClick(deps, input, REQUEST_CLICK, 'decide', (grant, decision) => {
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
    if (!next.ok) return answer(refusedClick('not-pending', grant));

    return saveThen(next.value, async (saved): Promise<DecideResult> => {
      await deps.queue.enqueue(grantChanged(saved));
      if (saved.status === 'approved') await deps.queue.enqueue({ kind: 'apply-grant', grantId: grant.id });
      return { outcome: clickOutcome(decision), grant: saved };
    });
  });
}

/** The answer to a click on a grant's card that the rules (or a lost transition) refused. */
export function refusedClick(reason: ClickRefusal, grant: Grant): DecideResult {
  return { outcome: 'refused', reason, grant };
}

/** A click on one of a grant's cards (its request's or its extension's), judged by `rules` and saved. */
export function decideGrantClick(
  deps: Pick<Deps, 'config' | 'grants'> & Pick<AckDeps, 'chat'>,
  input: { grantId: string; clicker: string; action: DecisionAction },
  rules: ClickRules<Grant>,
  doing: string,
  decided: (grant: Grant, decision: ClickDecision) => SaveStep<Grant, DecideResult>,
): Promise<DecideResult> {
  return decideClick(
    deps,
    deps.grants,
    { ...input, id: input.grantId },
    {
      rules,
      unknown: { outcome: 'refused', reason: 'unknown-grant' },
      refused: refusedClick,
      what: 'grant',
      doing,
      decided,
    },
  );
}

/**
 * Whether a click would be accepted, without writing anything: the Deny buttons open a modal only
 * for someone who may deny, so others are refused before they type a reason.
 */
export async function previewDecision(
  deps: Pick<Deps, 'config' | 'grants'> & Pick<AckDeps, 'chat'>,
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
