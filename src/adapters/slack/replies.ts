import { profilesSection } from './help-blocks';
import { inPlace } from './grant-phrases';
import type { AccessCommandResult } from '../../app/access-command';
import type { DecideResult } from '../../app/decide';
import type { EndResult } from '../../app/end-grant';
import type { ExtensionDecisionResult, ExtensionRequestResult } from '../../app/extend-grant';
import type { RequestAccessResult, RequestRefusal } from '../../app/request-access';
import { describeDurationError, formatDuration } from '../../domain/duration';
import type { Grant } from '../../domain/grant';
import type { ServedPlaces } from '../../domain/place';
import { describePrincipal } from '../../domain/principal';
import { isUserGroupId, type Target } from '../../domain/target';
import { escapeMrkdwn, slackDate } from './block-kit';

/** A reply only the person who typed or clicked sees. */
export interface Reply {
  text: string;
}

const USAGE =
  '`/access <target> [duration] <reason>` — for example `/access prod-raspi 1h replace sensor on line 3`';

const SUBCOMMANDS = [
  '`/access list` — your open requests and grants',
  '`/access done [id]` — give access back now (ends your open sessions)',
  '`/access extend <id> [duration]` — ask the approvers for more time',
  '`/access cancel <id>` — withdraw a request nobody has decided yet',
  '`/access revoke <id> [reason]` — approvers: end someone’s access now',
].join('\n');

/** `served` names each grant's and target's account and region when Keyturn serves more than one place. */
export function commandReply(result: AccessCommandResult, served?: ServedPlaces): Reply {
  switch (result.kind) {
    case 'request':
      return accessReply(result.result, served);
    case 'list':
      return { text: listText(result.mine, result.onMyTargets, served) };
    case 'done':
    case 'revoke':
    case 'cancel':
      return { text: endText(result.kind, result.result) };
    case 'extend':
      return { text: extensionRequestText(result.result) };
    case 'needs-id':
      return {
        text: `Which request? \`/access ${result.command} <id>\` — \`/access list\` shows your ids. Nothing changed.`,
      };
  }
}

function listText(
  mine: readonly Grant[],
  onMyTargets: readonly Grant[],
  served: ServedPlaces | undefined,
): string {
  const line = (g: Grant, who: boolean) =>
    `• \`${g.id}\` ${g.target}${inPlace(served, g)}${who ? ` for <@${g.requester}>` : ''} — ${describeStatus(g)}`;
  const parts = [
    mine.length > 0
      ? `*Yours*\n${mine.map((g) => line(g, false)).join('\n')}`
      : 'You have no open requests or grants.',
  ];
  if (onMyTargets.length > 0)
    parts.push(`*Active on targets you approve*\n${onMyTargets.map((g) => line(g, true)).join('\n')}`);
  return parts.join('\n\n');
}

export function endText(command: 'done' | 'revoke' | 'cancel', r: EndResult): string {
  const nothing = 'Nothing changed.';
  if (r.outcome === 'cancelled') return `Request \`${r.grant.id}\` for ${r.grant.target} is cancelled.`;
  if (r.outcome === 'ending') {
    if (r.already) return `\`${r.grant.id}\` is already ending; its access is being removed.`;
    return command === 'revoke'
      ? `Revoking \`${r.grant.id}\` (<@${r.grant.requester}> on ${r.grant.target}): the policy is being removed and open sessions ended. They will be told it was you${r.grant.ending?.reason ? ', and why' : ''}.`
      : `Ending \`${r.grant.id}\` on ${r.grant.target} now: the policy is being removed and your open sessions ended.`;
  }
  const g = r.grant;
  switch (r.reason) {
    case 'unknown-grant':
      return `There is no request with that id; \`/access list\` shows yours. ${nothing}`;
    case 'not-yours':
      return `\`${g?.id}\` is <@${g?.requester}>’s, not yours. ${nothing}`;
    case 'not-approver':
      return `Only the approvers of ${g?.target ?? 'that target'} can revoke its grants. ${nothing}`;
    case 'not-active':
      return `\`${g?.id}\` is ${g ? describeStatus(g) : 'not active'}, so there is no access to end.${g?.status === 'pending' ? ` To withdraw it: \`/access cancel ${g.id}\`.` : ''} ${nothing}`;
    case 'not-pending':
      return `\`${g?.id}\` is ${g ? describeStatus(g) : 'decided'}, so it can no longer be cancelled.${g?.status === 'active' ? ` To give access back: \`/access done ${g.id}\`.` : ''} ${nothing}`;
    case 'no-active-grant':
      return `You have no active grant to end. ${nothing}`;
    case 'several-active':
      return `You have several active grants: ${(r.grants ?? []).map((x) => `\`${x.id}\` (${x.target})`).join(', ')}. Say which: \`/access done <id>\`. ${nothing}`;
  }
}

export function extensionRequestText(r: ExtensionRequestResult): string {
  const nothing = 'Nothing was requested.';
  if (r.outcome === 'requested') {
    const ext = r.grant.extension;
    return `Asked the approvers of ${r.grant.target} in <#${r.channel}> to extend \`${r.grant.id}\` by ${ext ? formatDuration(ext.minutes) : 'the requested time'}. Your access continues meanwhile; you will get a DM when they decide.`;
  }
  const g = r.grant;
  switch (r.reason) {
    case 'unknown-grant':
      return `There is no grant with that id; \`/access list\` shows yours. ${nothing}`;
    case 'not-yours':
      return `\`${g?.id}\` is <@${g?.requester}>’s; only they can ask to extend it. ${nothing}`;
    case 'not-active':
      return `\`${g?.id}\` is ${g ? describeStatus(g) : 'not active'}; only active access can be extended. Request anew with ${USAGE}. ${nothing}`;
    case 'in-flight':
      return `An extension of \`${g?.id}\` is already waiting for approval. ${nothing}`;
    case 'duplicate-request':
      return `Already received: Slack delivered this same \`/access extend\` before (a retry or a replay), and it is answered only once. ${nothing} To ask again, type the command anew.`;
    case 'bad-duration':
      return `${r.error ? escapeMrkdwn(describeDurationError(r.error)) : 'That is not a duration'}. Try \`/access extend ${g?.id ?? '<id>'} 30m\`. ${nothing}`;
    case 'over-total':
      return r.remaining && r.remaining > 0
        ? `That would take \`${g?.id}\` past ${formatDuration(r.limit ?? 0)} in total, the most ${g?.target} allows; at most ${formatDuration(r.remaining)} more: \`/access extend ${g?.id} ${formatDuration(r.remaining)}\`. ${nothing}`
        : `\`${g?.id}\` already has the ${formatDuration(r.limit ?? 0)} in total that ${g?.target} allows. Request anew when it ends. ${nothing}`;
  }
}

export function extensionDecisionRefusal(
  result: Extract<ExtensionDecisionResult, { outcome: 'refused' }>,
  grantId: string,
  target?: Target,
): Reply {
  if (result.reason === 'not-pending')
    return { text: `The extension of \`${grantId}\` is no longer waiting for a decision. Nothing changed.` };
  return decisionRefusal({ ...result, reason: result.reason }, grantId, target);
}

export function accessReply(result: RequestAccessResult, served?: ServedPlaces): Reply {
  switch (result.outcome) {
    case 'help':
      return {
        text:
          result.profiles.length > 0
            ? `${helpText(result.targets, served)}\n\n${profilesSection(result.profiles)}`
            : helpText(result.targets, served),
      };
    case 'requested': {
      const g = result.grant;
      return {
        text: `Request \`${g.id}\` sent to <#${result.channel}> for approval: *${g.target}*${inPlace(served, g)} for ${formatDuration(g.durationMinutes)} — “${escapeMrkdwn(g.reason)}”. You will get a DM when it is decided.`,
      };
    }
    case 'refused':
      return { text: refusalText(result.refusal) };
  }
}

function helpText(targets: readonly Target[], served: ServedPlaces | undefined): string {
  const lines = targets.map(
    (t) =>
      `• \`${t.name}\`${inPlace(served, t)}${t.description ? ` — ${escapeMrkdwn(t.description)}` : ''} (default ${formatDuration(t.defaultDurationMinutes)}, up to ${formatDuration(t.maxDurationMinutes)}; approved by ${approverList(t)})`,
  );
  return [
    `Usage: ${USAGE}. The duration is optional (forms: 30m, 1h, 2h30m, 90m); without it you get the target's default.`,
    targets.length > 0 ? `Targets you can request:\n${lines.join('\n')}` : 'No targets are configured yet.',
    SUBCOMMANDS,
  ].join('\n');
}

function refusalText(r: RequestRefusal): string {
  const nothing = 'Nothing was requested.';
  switch (r.reason) {
    case 'unmapped-user':
      return `You (<@${r.user}>) are not mapped to an AWS identity, so Keyturn cannot grant you access. Ask whoever maintains Keyturn's configuration to add you under \`people:\` in keyturn.yml, e.g. \`${r.user}: { iamUser: <your IAM user> }\` or \`{ iamRole: <role> }\`. ${nothing}`;
    case 'unknown-target': {
      const hint = r.suggestion
        ? ` Did you mean \`${r.suggestion}\`? Try \`/access ${r.suggestion} 1h <reason>\`.`
        : '';
      const valid =
        r.valid.length > 0
          ? ` Targets: ${r.valid.map((v) => `\`${v}\``).join(', ')}.`
          : ' No targets are configured.';
      return `There is no target called \`${escapeMrkdwn(r.given)}\`.${hint}${valid} ${nothing}`;
    }
    case 'bad-duration':
      return `${escapeMrkdwn(describeDurationError(r.error))}. Try \`/access ${r.target.name} ${formatDuration(r.target.defaultDurationMinutes)} <reason>\` (${r.target.name} allows up to ${formatDuration(r.target.maxDurationMinutes)}). ${nothing}`;
    case 'over-max':
      return `${r.target.name} allows at most ${formatDuration(r.target.maxDurationMinutes)}; you asked for ${formatDuration(r.minutes)}. Try \`/access ${r.target.name} ${formatDuration(r.target.maxDurationMinutes)} <reason>\`. ${nothing}`;
    case 'missing-reason':
      return `Say why you need access — it goes on the approval card: \`/access ${r.target.name} ${formatDuration(r.target.defaultDurationMinutes)} <reason>\`. ${nothing}`;
    case 'reason-too-long':
      return `Your reason is ${r.chars} characters; keep it under ${r.max} and link to a ticket for the details. ${nothing}`;
    case 'run-as-conflict':
      return `Your open grant \`${r.existing.id}\` on ${r.existing.target} runs sessions as \`${r.runAs}\`, and this target runs them as \`${r.wanted}\`; Session Manager allows one Run As user per person at a time. End or cancel \`${r.existing.id}\` first (\`/access done ${r.existing.id}\`). ${nothing}`;
    case 'direct-attach-elsewhere':
      return `${directAttachText(r, (t) => `\`${escapeMrkdwn(t)}\``)} ${nothing}`;
    case 'open-grant-exists':
      return `You already have request \`${r.existing.id}\` for ${r.existing.target} (${describeStatus(r.existing)}). One open request per target: use that one. ${nothing}`;
    case 'duplicate-request': {
      const first = r.existing
        ? ` It made request \`${r.existing.id}\` for ${r.existing.target}, which is ${describeStatus(r.existing)}.`
        : '';
      return `Already received: Slack delivered this same \`/access\` request before (a retry or a replay), and it is answered only once.${first} Nothing new was requested; to ask again, type the command anew.`;
    }
  }
}

/**
 * Why an `attach: direct` person cannot have a grant in a member account, and what to ask for; `code`
 * quotes names (backticks in mrkdwn, as is in the form's plain-text errors).
 */
export function directAttachText(
  r: Extract<RequestRefusal, { reason: 'direct-attach-elsewhere' }>,
  code: (text: string) => string,
): string {
  return [
    `Your grants attach to your own ${describePrincipal(r.principal)} (${code('attach: direct')}), which is in Keyturn's account ${r.homeAccount},`,
    `and ${code(r.target.name)} is in account ${r.targetAccount}: IAM attaches a policy only to users and roles of its own account.`,
    `Ask whoever maintains Keyturn's configuration to take ${code('attach: direct')} off your entry (${code(r.user)}) under ${code('people:')} in keyturn.yml,`,
    'so your grants go to your Keyturn access role, which the grantor template creates in every member account.',
  ].join(' ');
}

export function decisionRefusal(
  result: Extract<DecideResult, { outcome: 'refused' }>,
  grantId: string,
  target?: Target,
): Reply {
  const nothing = 'Nothing changed.';
  switch (result.reason) {
    case 'unknown-grant':
      return { text: `Request \`${escapeMrkdwn(grantId)}\` does not exist. ${nothing}` };
    case 'unknown-target':
      return { text: `Request \`${grantId}\` is for a target that is no longer configured. ${nothing}` };
    case 'not-approver':
      return {
        text: `Only the approvers of ${target?.name ?? 'this target'} can decide on this request${target ? ` (${approverList(target)})` : ''}. ${nothing}`,
      };
    case 'self-approval':
      return {
        text: `You cannot decide on your own request; another approver of ${target?.name ?? 'the target'} has to. ${nothing}`,
      };
    case 'already-approved-by-you':
      return { text: `You already approved \`${grantId}\`; it needs another approver as well. ${nothing}` };
    case 'not-pending':
      return {
        text: `Request \`${grantId}\` is already ${result.grant ? describeStatus(result.grant) : 'decided'}. ${nothing}`,
      };
  }
}

function describeStatus(g: Grant): string {
  switch (g.status) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
      return `approved${g.decidedBy ? ` by <@${g.decidedBy}>` : ''}, being set up`;
    case 'active':
      if (g.ending) return 'ending now';
      return g.expiresAt ? `active until ${slackDate(g.expiresAt)}` : 'active';
    case 'denied':
      return `denied${g.decidedBy ? ` by <@${g.decidedBy}>` : ''}`;
    default:
      return g.status;
  }
}

function approverList(t: Target): string {
  return t.approvers.map((id) => (isUserGroupId(id) ? `<!subteam^${id}>` : `<@${id}>`)).join(', ');
}
