import type { DecisionAction } from '../domain/approval';
import { type DurationError, parseDuration } from '../domain/duration';
import {
  addMinutes,
  extensionInFlight,
  type Grant,
  toIsoSeconds,
  totalMinutes,
  transition,
} from '../domain/grant';
import { checkExtensionAuthority, describeAuthorityRefusal } from '../domain/grant-authority';
import type { Target } from '../domain/target';
import type { ExtensionCardView } from '../ports/chat';
import { grantAuthorityContext, judgeWithGroups, reportRefusal } from './authority';
import { clickOutcome } from './approval-click';
import { type DecideResult, decideGrantClick, EXTENSION_CLICK, refusedClick } from './decide';
import { answer, decideAndSave, keptChanging, type SaveStep, saveThen } from './decide-and-save';
import type { AckDeps, Deps } from './deps';
import { requestEnding } from './end-grant';
import { describePolicyError, grantPolicy, policyArnOfGrant } from './grant-policy';
import { grantChanged, transitionlessUpdate } from './grant-updates';
import { republishHomes } from './publish-home';
import { accessFor } from './places';

export type ExtensionRequestResult =
  | { outcome: 'requested'; grant: Grant; channel: string }
  | {
      outcome: 'refused';
      reason:
        | 'unknown-grant'
        | 'not-yours'
        | 'not-active'
        | 'in-flight'
        | 'bad-duration'
        | 'over-total'
        /** The same Slack request (its `trigger_id`) asked before: a retry or a replay asks nothing new. */
        | 'duplicate-request';
      grant?: Grant;
      error?: DurationError;
      /** For over-total: what is still allowed, in minutes. */
      remaining?: number;
      limit?: number;
    };

/** `maxDuration` bounds the whole grant, extensions included, unless the target sets `maxTotal`. */
export function totalLimit(target: Target): number {
  return target.maxTotalMinutes ?? target.maxDurationMinutes;
}

/** `/access extend <id> <duration>` or [Extend]: the requester asks the target's approvers for more time. */
export async function requestExtension(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'clock'>,
  input: { user: string; grantId: string; durationText?: string; requestKey?: string },
): Promise<ExtensionRequestResult> {
  let claimed = false;
  return decideAndSave(
    deps.grants,
    input.grantId,
    async (grant): Promise<SaveStep<Grant, ExtensionRequestResult>> => {
      if (!grant) return answer({ outcome: 'refused', reason: 'unknown-grant' });
      const target = deps.config.targets[grant.target];
      if (grant.requester !== input.user) return answer({ outcome: 'refused', reason: 'not-yours', grant });
      if (grant.status !== 'active' || grant.ending || !target || !grant.expiresAt)
        return answer({ outcome: 'refused', reason: 'not-active', grant });
      if (extensionInFlight(grant)) return answer({ outcome: 'refused', reason: 'in-flight', grant });

      let minutes = target.defaultDurationMinutes;
      if (input.durationText !== undefined) {
        const parsed = parseDuration(input.durationText);
        if (!parsed.ok)
          return answer({ outcome: 'refused', reason: 'bad-duration', grant, error: parsed.error });
        minutes = parsed.value;
      }
      const limit = totalLimit(target);
      const remaining = limit - totalMinutes(grant);
      // [Extend] asks for the default; when less is left, ask for what is left rather than refuse.
      if (input.durationText === undefined) minutes = Math.min(minutes, remaining);
      if (minutes <= 0 || minutes > remaining)
        return answer({
          outcome: 'refused',
          reason: 'over-total',
          grant,
          remaining: Math.max(remaining, 0),
          limit,
        });

      const at = toIsoSeconds(deps.clock.now());
      const next = transition(grant, 'active', {
        at,
        by: input.user,
        event: 'extension-requested',
        note: `+${minutes}m`,
        set: {
          extension: { minutes, requestedBy: input.user, requestedAt: at, approvals: [], state: 'pending' },
        },
      });
      if (!next.ok) return answer({ outcome: 'refused', reason: 'not-active', grant });
      // As for a new request: one extension request per Slack request, however often it is delivered.
      if (input.requestKey !== undefined && !claimed) {
        if (!(await deps.grants.claimRequest(input.requestKey, grant.id)))
          return answer({ outcome: 'refused', reason: 'duplicate-request', grant });
        claimed = true;
      }
      return saveThen(next.value, async (saved) => {
        await deps.queue.enqueue({ kind: 'post-extension-card', grantId: grant.id });
        return { outcome: 'requested', grant: saved, channel: deps.config.slack.requestsChannel };
      });
    },
    { attempts: 5, exhausted: keptChanging('grant', input.grantId, 5, 'extend it') },
  );
}

/** A click on an extension card answers exactly like one on a request card. */
export type ExtensionDecisionResult = DecideResult;

/** A click on an extension card: the same approver rules as the grant itself. */
export async function decideOnExtension(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'clock'> & Pick<AckDeps, 'chat'>,
  input: { grantId: string; clicker: string; action: DecisionAction; denyReason?: string },
): Promise<ExtensionDecisionResult> {
  return decideGrantClick(deps, input, EXTENSION_CLICK, 'decide its extension', (grant, decision) => {
    // Checked by EXTENSION_CLICK; repeated so their types are known below.
    const { extension, expiresAt } = grant;
    if (!extension || !expiresAt) return answer(refusedClick('not-pending', grant));

    const at = toIsoSeconds(deps.clock.now());
    const approvals =
      decision.outcome === 'deny' ? extension.approvals : [...extension.approvals, { by: input.clicker, at }];
    const next = transition(grant, 'active', {
      at,
      by: input.clicker,
      ...(decision.outcome === 'deny'
        ? {
            event: 'extension-denied' as const,
            ...(input.denyReason ? { note: input.denyReason } : {}),
            set: {
              extension: {
                ...extension,
                state: 'denied' as const,
                decidedBy: input.clicker,
                decidedAt: at,
                ...(input.denyReason ? { denyReason: input.denyReason } : {}),
              },
            },
          }
        : decision.outcome === 'approve'
          ? {
              event: 'extension-approved' as const,
              set: {
                extension: {
                  ...extension,
                  approvals,
                  state: 'approved' as const,
                  decidedBy: input.clicker,
                  decidedAt: at,
                  // Fixed at approval: extending from the current expiry means access never has a gap.
                  newExpiresAt: addMinutes(expiresAt, extension.minutes),
                },
              },
            }
          : {
              event: 'extension-approval-recorded' as const,
              note: `approval ${decision.have} of ${decision.need}`,
              set: { extension: { ...extension, approvals } },
            }),
    });
    if (!next.ok) return answer(refusedClick('not-pending', grant));
    return saveThen(next.value, async (saved): Promise<ExtensionDecisionResult> => {
      await deps.queue.enqueue(grantChanged(saved));
      if (decision.outcome === 'approve')
        await deps.queue.enqueue({ kind: 'apply-extension', grantId: grant.id });
      return { outcome: clickOutcome(decision), grant: saved };
    });
  });
}

export type ApplyExtensionOutcome = 'extended' | 'skipped' | 'failed';

/**
 * Worker job for an approved extension: a new default version of the same policy with the later
 * expiry (CreatePolicyVersion SetAsDefault), so there is never a moment without access, then one
 * conditional write moves the grant's expiry. Repeating it is harmless.
 */
export async function applyExtension(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'aws' | 'chat' | 'clock' | 'logger'>,
  grantId: string,
): Promise<ApplyExtensionOutcome> {
  const grant = await deps.grants.get(grantId);
  const extension = grant?.extension;
  const target = grant ? deps.config.targets[grant.target] : undefined;
  if (!grant || !extension || extension.state !== 'approved' || !extension.newExpiresAt) return 'skipped';
  if (grant.status !== 'active' || grant.ending || !grant.startsAt || !target) return 'skipped';

  // As for the grant itself (issue 11): a later expiry is written only if config and history still back it.
  const authority = await judgeWithGroups(deps, target, (groups) =>
    checkExtensionAuthority(grant, grantAuthorityContext(deps, grant, groups)),
  );
  if (authority.outcome === 'refuse')
    return refuseExtension(deps, grant, describeAuthorityRefusal(authority));

  const rendered = grantPolicy(
    deps.config,
    { ...grant, startsAt: grant.startsAt, expiresAt: extension.newExpiresAt },
    target,
  );
  if (!rendered.ok) {
    deps.logger.error(
      { grantId, why: describePolicyError(rendered.error) },
      'extension policy could not be rendered',
    );
    return 'failed';
  }
  await accessFor(deps, grant).createPolicyVersion(
    grant.policyArn ?? policyArnOfGrant(deps.config.aws, grant),
    rendered.value,
  );

  const next = transition(grant, 'active', {
    at: toIsoSeconds(deps.clock.now()),
    by: 'keyturn',
    event: 'extended',
    note: `until ${extension.newExpiresAt}`,
    set: {
      expiresAt: extension.newExpiresAt,
      extendedMinutes: (grant.extendedMinutes ?? 0) + extension.minutes,
      extension: { ...extension, state: 'extended' },
    },
  });
  if (!next.ok || (await deps.grants.save(next.value, grant.version)) === 'stale') return 'skipped';
  await deps.queue.enqueue(grantChanged(next.value));
  return 'extended';
}

/**
 * The approved extension does not hold up: no policy version is written, and the grant itself is
 * ended as failed (recorded first, revoked by the usual path), since whoever could forge the
 * extension could have forged the rest of it. The audit channel is told.
 */
async function refuseExtension(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'chat' | 'clock' | 'logger'>,
  grant: Grant,
  reason: string,
): Promise<ApplyExtensionOutcome> {
  const ended = await requestEnding(deps, grant.id, {
    status: 'failed',
    by: 'keyturn',
    reason: `extension refused by the worker: ${reason}`,
  });
  if (ended.outcome !== 'ending' || ended.already) return 'skipped';
  await reportRefusal(deps, ended.grant, 'extension', reason);
  return 'failed';
}

/** Worker job after an extension request: post its approval card once, and show it on the Home tabs. */
export async function postExtensionCard(
  deps: Pick<Deps, 'config' | 'grants' | 'aws' | 'chat' | 'clock' | 'logger'>,
  grantId: string,
): Promise<void> {
  const grant = await deps.grants.get(grantId);
  const extension = grant?.extension;
  const target = grant ? deps.config.targets[grant.target] : undefined;
  if (!grant || !extension || !target || extension.card || !grant.expiresAt) return;
  if (
    !(await deps.grants.claimEffect(
      grant.id,
      `extension-card:${extension.requestedAt}`,
      deps.clock.now().toISOString(),
    ))
  )
    return;
  const card = await deps.chat.postExtensionCard(
    deps.config.slack.requestsChannel,
    extensionCardView(grant, target),
  );
  const saved = await transitionlessUpdate(deps.grants, grant.id, (g) =>
    g.extension && g.extension.requestedAt === extension.requestedAt && !g.extension.card
      ? { ...g, extension: { ...g.extension, card } }
      : undefined,
  );
  // Decided between posting and storing the reference: that announcement found no card, so update it now.
  if (saved?.extension && saved.extension.state !== 'pending')
    await deps.chat.updateExtensionCard(card, extensionCardView(saved, target));
  // The approvers' Home tabs list it as waiting for them (the request step is announced by no other job).
  await republishHomes(deps, grant);
}

export function extensionCardView(grant: Grant, target: Target): ExtensionCardView {
  const extension = grant.extension;
  if (!extension || !grant.expiresAt) throw new Error(`grant ${grant.id} has no extension to show`);
  const applied = extension.state === 'extended';
  const base = applied ? grant.expiresAt : addMinutes(grant.expiresAt, extension.minutes);
  const view: ExtensionCardView = {
    grant,
    target,
    extension,
    newExpiresAt: extension.newExpiresAt ?? base,
    totalMinutes: applied ? totalMinutes(grant) : totalMinutes(grant) + extension.minutes,
  };
  if (extension.state === 'extended')
    view.outcome = { kind: 'extended', ...(extension.decidedBy ? { by: extension.decidedBy } : {}) };
  else if (extension.state === 'denied')
    view.outcome = {
      kind: 'denied',
      ...(extension.decidedBy ? { by: extension.decidedBy } : {}),
      ...(extension.denyReason ? { reason: extension.denyReason } : {}),
    };
  else if (grant.status !== 'active' || grant.ending) view.outcome = { kind: 'dropped' };
  return view;
}
