/*
 * An Approve or Deny click on any approval card (a request, an extension, a run): judged by the same
 * approver rules and saved by one conditional write. The cards differ only in what is pending and
 * what the decision writes.
 */
import { type Decision, type DecisionAction, type GrantClick, isListedApprover } from '../domain/approval';
import { isUserGroupId, type Target } from '../domain/target';
import { answer, decideAndSave, keptChanging, type SaveStep, type VersionedStore } from './decide-and-save';
import type { AckDeps, Deps } from './deps';

/** Why a click on an approval card is refused before anything is written. */
export type ClickRefusal =
  | 'unknown-target'
  | 'not-pending'
  | Extract<Decision, { outcome: 'refuse' }>['reason'];

/** Two approvers clicking at once: the loser re-reads and decides again on the fresh record. */
export const CLICK_RACES = 5;

/** A decision the rules took on a click, not a refusal. */
export type ClickDecision = Exclude<Decision, { outcome: 'refuse' }>;

/** What an approval card decides about, and the rules it is decided by. */
export interface ClickRules<T> {
  /** Whether the record still waits for this decision. */
  pending(record: T): boolean;
  decide(record: T, click: Omit<GrantClick, 'grant'>): Decision;
}

/**
 * The rules' answer to a click on a request's, an extension's or a run's card: the target must still
 * be configured and the record still pending (checked first, so a click on a decided card costs no
 * user-group lookup), then the clicker is looked up among the approvers.
 */
export async function judgeClick<T extends { target: string }>(
  deps: Pick<Deps, 'config'> & Pick<AckDeps, 'chat'>,
  record: T,
  click: { clicker: string; action: DecisionAction },
  rules: ClickRules<T>,
): Promise<{ refused: ClickRefusal } | { target: Target; decision: ClickDecision }> {
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
 * A click on an approval card, judged and saved in one conditional write: the record is read and
 * judged, `decided` builds its new state, and a lost race (a second approver, a Slack retry) reads
 * and judges again, so nobody approves twice.
 */
export function decideClick<T extends { target: string; version: number }, R>(
  deps: Pick<Deps, 'config'> & Pick<AckDeps, 'chat'>,
  store: VersionedStore<T>,
  input: { id: string; clicker: string; action: DecisionAction },
  how: {
    rules: ClickRules<T>;
    /** The answer when there is no such record. */
    unknown: R;
    refused: (reason: ClickRefusal, record: T) => R;
    decided: (record: T, decision: ClickDecision) => SaveStep<T, R>;
    /** For the error when the record keeps changing: "grant", "run"; and what was being done. */
    what: string;
    doing: string;
  },
): Promise<R> {
  return decideAndSave(
    store,
    input.id,
    async (record): Promise<SaveStep<T, R>> => {
      if (!record) return answer(how.unknown);
      const judged = await judgeClick(deps, record, input, how.rules);
      if ('refused' in judged) return answer(how.refused(judged.refused, record));
      return how.decided(record, judged.decision);
    },
    { attempts: CLICK_RACES, exhausted: keptChanging(how.what, input.id, CLICK_RACES, how.doing) },
  );
}

/** What a click that was not refused did, in the words of the answer to the clicker. */
export function clickOutcome(decision: ClickDecision): 'approved' | 'approval-recorded' | 'denied' {
  return decision.outcome === 'deny'
    ? 'denied'
    : decision.outcome === 'approve'
      ? 'approved'
      : 'approval-recorded';
}

export async function isApprover(
  deps: Pick<AckDeps, 'chat'>,
  target: Target,
  user: string,
): Promise<boolean> {
  if (isListedApprover(target, user, new Set())) return true;
  const groups = new Set<string>();
  for (const id of target.approvers.filter(isUserGroupId)) {
    if ((await deps.chat.userGroupMembers(id)).includes(user)) groups.add(id);
  }
  return isListedApprover(target, user, groups);
}
