import type { DecideResult } from '../../app/decide';
import type { RequestAccessResult, RequestRefusal } from '../../app/request-access';
import { describeDurationError, formatDuration } from '../../domain/duration';
import type { Grant } from '../../domain/grant';
import { isUserGroupId, type Target } from '../../domain/target';
import { escapeMrkdwn, slackDate } from './blocks';

/** A reply only the person who typed or clicked sees. */
export interface Reply {
  text: string;
}

const USAGE =
  '`/access <target> [duration] <reason>` — for example `/access prod-raspi 1h replace sensor on line 3`';

export function accessReply(result: RequestAccessResult): Reply {
  switch (result.outcome) {
    case 'help':
      return { text: helpText(result.targets) };
    case 'requested': {
      const g = result.grant;
      return {
        text: `Request \`${g.id}\` sent to <#${result.channel}> for approval: *${g.target}* for ${formatDuration(g.durationMinutes)} — “${escapeMrkdwn(g.reason)}”. You will get a DM when it is decided.`,
      };
    }
    case 'refused':
      return { text: refusalText(result.refusal) };
  }
}

function helpText(targets: readonly Target[]): string {
  const lines = targets.map(
    (t) =>
      `• \`${t.name}\`${t.description ? ` — ${escapeMrkdwn(t.description)}` : ''} (default ${formatDuration(t.defaultDurationMinutes)}, up to ${formatDuration(t.maxDurationMinutes)}; approved by ${approverList(t)})`,
  );
  return [
    `Usage: ${USAGE}. The duration is optional (forms: 30m, 1h, 2h30m, 90m); without it you get the target's default.`,
    targets.length > 0 ? `Targets you can request:\n${lines.join('\n')}` : 'No targets are configured yet.',
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
    case 'open-grant-exists':
      return `You already have request \`${r.existing.id}\` for ${r.existing.target} (${describeStatus(r.existing)}). One open request per target: use that one. ${nothing}`;
  }
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
