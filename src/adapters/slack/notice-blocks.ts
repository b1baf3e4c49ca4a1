import type { KnownBlock } from '@slack/types';
import type { AwsProfile } from '../../domain/person';
import { formatDuration } from '../../domain/duration';
import type { Grant } from '../../domain/grant';
import type { ManagedNode } from '../../domain/node';
import { describePrincipal } from '../../domain/principal';
import type { Target } from '../../domain/target';
import type { ServedPlaces } from '../../domain/place';
import type { Notice } from '../../ports/chat';
import { ACTION_EXTEND, ACTION_RELEASE } from './action-ids';
import {
  actions,
  at,
  button,
  context,
  escapeMrkdwn,
  mention,
  plural,
  type SlackMessage,
  section,
  slackDate,
} from './block-kit';
import {
  approverList,
  byAt,
  endingOf,
  failureText,
  inPlace,
  lastEvent,
  lastMove,
  nodeCount,
  nodeLines,
  onlineFirst,
  reasonText,
  targetLabel,
  until,
} from './grant-phrases';
import { profileFlag, profileSection } from './help-blocks';

/*
 * The requester's DMs: approved, denied, failed, ready (with how to connect), the warning before the
 * end, ended, lapsed, extended and extension denied.
 */

function startSessionCommand(nodes: readonly ManagedNode[], region: string, profile?: AwsProfile): string {
  const first = onlineFirst(nodes)[0];
  const target = first === undefined ? '&lt;node-id&gt;' : escapeMrkdwn(first.id);
  const note =
    first === undefined
      ? '\nNo node carries these tags right now.'
      : first.ping === 'Online'
        ? ''
        : '\nNo node is online right now; this one may come back.';
  return `*Start a session:*\n\`\`\`aws ssm start-session ${profileFlag(profile)}--target ${target} --region ${escapeMrkdwn(region)}\`\`\`${note}`;
}

/**
 * With several accounts or regions one `Host i-* mi-*` block cannot route every node (a node id does
 * not say its account or region), so the DM gives the ProxyCommand on ssh's command line instead.
 */
function sshCommand(nodes: readonly ManagedNode[], region: string, profile?: AwsProfile): string {
  const first = onlineFirst(nodes)[0];
  const node = first === undefined ? '&lt;node-id&gt;' : escapeMrkdwn(first.id);
  return [
    '*SSH:* name this account’s profile and region in the ProxyCommand (`%h` and `%p` are filled in by ssh):',
    `\`\`\`ssh -o ProxyCommand="aws ssm start-session ${profileFlag(profile)}--target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --region ${escapeMrkdwn(region)}" ${node}\`\`\``,
  ].join('\n');
}

function sshConfig(region: string, profile?: AwsProfile): string {
  // %h and %p are filled in by ssh; the host patterns cover EC2 (i-) and hybrid (mi-) node ids.
  return [
    '*SSH:* add this to `~/.ssh/config`, then `ssh` to a node by its id:',
    '```Host i-* mi-*',
    `  ProxyCommand sh -c "aws ssm start-session ${profileFlag(profile)}--target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p' --region ${escapeMrkdwn(region)}"\`\`\``,
  ].join('\n');
}

/**
 * "(in about 10 minutes)": a snapshot at sending time, next to the date token that stays right. Rounded
 * up so a warning is never more relaxed than the truth (9.2 minutes left reads "about 10").
 */
function inAbout(iso: string, now: Date | undefined): string {
  if (now === undefined) return '';
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '';
  return ` (in about ${plural(Math.max(1, Math.ceil(ms / 60_000)), 'minute', 'minutes')})`;
}

function sessionsClosed(grant: Grant): string {
  const n = grant.sessionsEnded ?? 0;
  if (n === 0) return 'no sessions were open';
  return n === 1 ? '1 open session was ended' : `${n} open sessions were ended`;
}

function endedNotice(grant: Grant, target: Target): SlackMessage {
  const yours = `Your access to ${targetLabel(target)} (${escapeMrkdwn(grant.id)})`;
  const ending = endingOf(grant);
  let headline: string;
  const details: string[] = [];
  switch (ending.status) {
    case 'expired':
      headline = `${yours} expired${at(grant.expiresAt ?? ending.at)}.`;
      break;
    case 'released':
      headline = `${yours} ended${at(ending.at)}: released by ${ending.by === undefined || ending.by === grant.requester ? 'you' : mention(ending.by)}.`;
      break;
    case 'revoked':
      headline = `${yours} was revoked${byAt(ending.by, ending.at)}.`;
      details.push(`*Reason:* ${reasonText(ending.reason)}`);
      break;
    case 'failed':
      headline = `${yours} ended early${at(ending.at)}: something went wrong.`;
      details.push(`*What happened:* ${failureText(grant)}`);
      break;
  }
  const removed = ending.status === 'failed' ? 'Access was removed' : 'The policy was removed';
  details.push(`${removed}; ${sessionsClosed(grant)}.`);
  if (ending.status === 'expired')
    details.push(`Need more time? Request again with \`/access ${targetLabel(target)}\`.`);
  return { text: headline, blocks: [section([headline, ...details].join('\n'))] };
}

/**
 * Personal messages to the requester, sent by DM. `now` (the adapter's clock) only feeds the
 * warning's "in about N minutes"; without it that part is left out. `served` lets the ready DM name
 * the grant's account and region when Keyturn serves more than one place.
 */
export function notice(n: Notice, now?: Date, served?: ServedPlaces): SlackMessage {
  const { grant, target } = n;
  const request = `Your request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)}`;
  const yours = `Your access to ${targetLabel(target)} (${escapeMrkdwn(grant.id)})`;
  switch (n.kind) {
    case 'approved': {
      const text = `${request} was approved by ${approverList(grant)}; setting up access…`;
      return { text, blocks: [section(text)] };
    }
    case 'denied': {
      const text = `${request} was denied by ${mention(grant.decidedBy ?? lastMove(grant, 'denied')?.by ?? 'keyturn')}.`;
      return { text, blocks: [section(`${text}\n*Reason:* ${reasonText(grant.denyReason)}`)] };
    }
    case 'failed': {
      const text = `${request} was approved, but Keyturn could not set up access.`;
      return {
        text,
        blocks: [
          section(
            [
              text,
              `*What failed:* ${failureText(grant)}`,
              `Nothing was left attached to your ${escapeMrkdwn(describePrincipal(grant.principal))}; you can ask again with \`/access ${targetLabel(target)}\`.`,
            ].join('\n'),
          ),
        ],
      };
    }
    case 'ready': {
      const ends = until(grant);
      const runAs =
        target.runAs === undefined ? '' : `\nSessions run as OS user \`${escapeMrkdwn(target.runAs)}\`.`;
      const where = inPlace(served, grant);
      const blocks: KnownBlock[] = [
        section(
          `*Access to ${targetLabel(target)}${where} is ready* (request ${escapeMrkdwn(grant.id)}), ${ends}.${runAs}`,
        ),
        section([`*Nodes:* ${nodeCount(n.nodes)}`, ...nodeLines(n.nodes)].join('\n')),
        ...(n.profile ? [section(profileSection(n.profile))] : []),
        section(startSessionCommand(n.nodes, n.region, n.profile)),
      ];
      if (target.documents.includes('ssh'))
        blocks.push(
          section(where === '' ? sshConfig(n.region, n.profile) : sshCommand(n.nodes, n.region, n.profile)),
        );
      const endsAt = grant.expiresAt === undefined ? ends : `ends ${slackDate(grant.expiresAt)}`;
      // The expiry is a condition inside the IAM policy (DESIGN.md "The grant policy"), not a Keyturn timer.
      blocks.push(
        context(`Access ${endsAt} even if Keyturn is down: the end time is written into the IAM policy.`),
        actions(button("I'm done", ACTION_RELEASE, grant.id), button('Extend', ACTION_EXTEND, grant.id)),
      );
      return {
        text: `Access to ${targetLabel(target)}${where} is ready (request ${escapeMrkdwn(grant.id)}), ${ends}.`,
        blocks,
      };
    }
    case 'warning': {
      const ends =
        grant.expiresAt === undefined
          ? 'soon'
          : `${slackDate(grant.expiresAt)}${inAbout(grant.expiresAt, now)}`;
      const text = `${yours} ends ${ends}.`;
      const release = button("I'm done", ACTION_RELEASE, grant.id);
      // One extension is in flight at a time (domain/grant.ts Extension): a second [Extend] would only be refused.
      const inFlight = grant.extension;
      if (inFlight !== undefined && (inFlight.state === 'pending' || inFlight.state === 'approved')) {
        const state =
          inFlight.state === 'pending' ? 'is waiting for approval' : 'was approved and is being applied';
        return {
          text,
          blocks: [
            section(`${text}\nYour request to extend it by ${formatDuration(inFlight.minutes)} ${state}.`),
            actions(release),
          ],
        };
      }
      return {
        text,
        blocks: [
          section(
            `${text}\nFinished? *I'm done* ends it now. Need longer? *Extend* asks the approvers again.`,
          ),
          actions(release, button('Extend', ACTION_EXTEND, grant.id, 'primary')),
        ],
      };
    }
    case 'ended':
      return endedNotice(grant, target);
    case 'lapsed': {
      const text = `Nobody decided on your request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)} within ${formatDuration(target.approvalTimeoutMinutes)}, so nothing was granted.`;
      return {
        text,
        blocks: [section(`${text}\nRequest again with \`/access ${targetLabel(target)}\`.`)],
      };
    }
    case 'extended': {
      const approver = grant.extension?.decidedBy ?? lastEvent(grant, 'extension-approved')?.by;
      const text = `${yours} was extended ${until(grant)}${approver === undefined ? '' : ` (approved by ${mention(approver)})`}.`;
      // Extension replaces the policy's default version in place (DESIGN.md "The grant policy"): nothing is re-attached.
      return { text, blocks: [section(`${text}\nYour open sessions carry on; nothing to reconnect.`)] };
    }
    case 'extension-denied': {
      const text = `Your request to extend access to ${targetLabel(target)} (${escapeMrkdwn(grant.id)}) was denied by ${mention(n.by)}.`;
      const still =
        grant.expiresAt === undefined ? '' : `\nYour access still ends ${slackDate(grant.expiresAt)}.`;
      return { text, blocks: [section(`${text}\n*Reason:* ${reasonText(n.reason)}${still}`)] };
    }
  }
}
