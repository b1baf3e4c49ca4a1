import { type DecisionAction, decideRequest } from '../domain/approval';
import { type CommandRun, moveRun } from '../domain/command-run';
import { type MessageRef, toIsoSeconds } from '../domain/grant';
import { type ClickRefusal, type ClickRules, clickOutcome, decideClick } from './approval-click';
import { answer, saveThen } from './decide-and-save';
import type { AckDeps, Deps } from './deps';

export type RunDecisionResult =
  | { outcome: 'approved' | 'approval-recorded' | 'denied'; run: CommandRun }
  | {
      outcome: 'refused';
      reason: 'unknown-run' | ClickRefusal;
      run?: CommandRun;
    };

/** A run's card: the same rules as a grant's, applied to the run's own approvals. */
const RUN_CLICK: ClickRules<CommandRun> = {
  pending: (run) => run.status === 'awaiting-approval',
  decide: (run, click) =>
    decideRequest({ ...click, pending: true, requester: run.requester, approvals: run.approvals }),
};

/**
 * Approve or Deny on a run's approval card: the same rules as a grant (listed approvers or members of
 * a listed user group, not the requester unless the target allows it, `approvals` distinct people),
 * decided by one conditional write, so double clicks and Slack retries cannot approve twice.
 */
export async function decideOnRun(
  deps: Pick<Deps, 'config' | 'queue' | 'clock'> & Pick<AckDeps, 'chat' | 'runs'>,
  input: { runId: string; clicker: string; action: DecisionAction; card?: MessageRef },
): Promise<RunDecisionResult> {
  const refused = (reason: ClickRefusal, run: CommandRun): RunDecisionResult => ({
    outcome: 'refused',
    reason,
    run,
  });
  return decideClick(
    deps,
    deps.runs,
    { ...input, id: input.runId },
    {
      rules: RUN_CLICK,
      unknown: { outcome: 'refused', reason: 'unknown-run' },
      refused,
      what: 'run',
      doing: 'decide',
      decided: (run, decision) => {
        const now = toIsoSeconds(deps.clock.now());
        const card = run.card ?? input.card;
        const approvals =
          decision.outcome === 'deny' ? run.approvals : [...run.approvals, { by: input.clicker, at: now }];
        const next = moveRun(
          run,
          decision.outcome === 'deny'
            ? 'denied'
            : decision.outcome === 'approve'
              ? 'queued'
              : 'awaiting-approval',
          {
            approvals,
            ...(decision.outcome === 'record-approval' ? {} : { decidedBy: input.clicker, decidedAt: now }),
            ...(card ? { card } : {}),
          },
        );
        if (!next.ok) return answer(refused('not-pending', run));
        // Approval may come long after the card showed the nodes: the worker looks them up again before sending.
        const { nodes: _before, ...fresh } = next.value;
        const decided = decision.outcome === 'approve' ? fresh : next.value;
        return saveThen(decided, async (saved): Promise<RunDecisionResult> => {
          // The worker updates the card and the run's message, and sends the command once it is queued.
          await deps.queue.enqueue({ kind: 'start-run', runId: run.id });
          return { outcome: clickOutcome(decision), run: saved };
        });
      },
    },
  );
}
