import type {
  ActionsBlock,
  Button,
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  ModalView,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { formatDuration } from '../../domain/duration';
import { type Grant, type GrantStatus, type HistoryEntry, toIsoSeconds } from '../../domain/grant';
import { countOnline, type ManagedNode } from '../../domain/node';
import { describePrincipal } from '../../domain/principal';
import { DOCUMENT_DESCRIPTIONS, type Target } from '../../domain/target';
import type { Notice, RequestCardView } from '../../ports/chat';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
} from './action-ids';

/** A message as chat.postMessage / chat.update take it: `text` is the notification fallback. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/*
 * Slack limits (FACTS.md "Slack"; https://docs.slack.dev/reference/block-kit/blocks). A message
 * that breaks one is rejected whole with `invalid_blocks`, so the card would never appear.
 * Every builder below emits a fixed, small number of blocks (at most 6) whatever the input, and
 * long lists (nodes) are capped inside one section, so MAX_BLOCKS holds by construction.
 */
export const MAX_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
/** Section `fields` items are capped lower than section text. */
export const MAX_FIELD_TEXT = 2000;
/** Header blocks take plain text of at most 150 characters. */
const MAX_HEADER_TEXT = 150;
/** Nodes named on a card or DM; the rest are counted ("and 190 more") so 200 nodes still fit one section. */
export const NODE_LIST_CAP = 10;
/** EC2 Name tags may be 256 characters; ten of those would crowd out everything else. */
const MAX_NODE_NAME = 80;
/** Deny reasons end up in a DM section and in the card; 500 keeps both readable. */
export const DENY_REASON_MAX_LENGTH = 500;

const DEFAULT_DATE_FORMAT = '{date_short_pretty} at {time}';

/**
 * Escapes the three characters Slack mrkdwn treats as control characters
 * (https://docs.slack.dev/messaging/formatting-message-text#escaping), so user text such as
 * `<!channel>` or `<@U123>` shows literally instead of pinging anyone or forging a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A Slack date token: every reader sees the time in their own time zone, and clients that cannot
 * render tokens show the ISO fallback (https://docs.slack.dev/messaging/formatting-message-text#date-formatting).
 */
export function slackDate(iso: string, format: string = DEFAULT_DATE_FORMAT): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  const epoch = Math.floor(ms / 1000);
  return `<!date^${epoch}^${format}|${toIsoSeconds(new Date(epoch * 1000))}>`;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** A user mention for Slack ids; anything else (the bot's own `keyturn`, odd ids) is shown as escaped text. */
export function mention(id: string): string {
  if (SLACK_USER_ID.test(id)) return `<@${id}>`;
  if (id === 'keyturn') return 'Keyturn';
  return escapeMrkdwn(id);
}

/**
 * Cuts text to `max` characters with an ellipsis, never inside a Slack token (`<@U…>`, `<!date…>`),
 * an escape (`&amp;`) or a surrogate pair: half of any of those renders as garbage or is rejected.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const open = cut.lastIndexOf('<');
  if (open > cut.lastIndexOf('>')) cut = cut.slice(0, open);
  const amp = cut.lastIndexOf('&');
  if (amp > cut.lastIndexOf(';')) cut = cut.slice(0, amp);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/*
 * verbatim: true stops Slack's automatic parsing of plain text (bare URLs, #channel names and
 * "certain mentions", https://docs.slack.dev/reference/block-kit/composition-objects/text-object)
 * while still honouring the tokens we write ourselves (<@U…>, <!date…>).
 */
function md(text: string, max: number = MAX_SECTION_TEXT): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(text, max), verbatim: true };
}

function plain(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max) };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: md(text) };
}

function context(text: string): ContextBlock {
  return { type: 'context', elements: [md(text)] };
}

function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(text, MAX_HEADER_TEXT) };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function tagList(target: Target): string {
  return Object.entries(target.tags)
    .map(([k, v]) => `${escapeMrkdwn(k)}=${escapeMrkdwn(v)}`)
    .join(' and ');
}

function targetLabel(target: Target): string {
  return escapeMrkdwn(target.name);
}

/** The latest history entry that moved the grant into `status`: who did it, and when. */
function lastMove(grant: Grant, status: GrantStatus): HistoryEntry | undefined {
  for (let i = grant.history.length - 1; i >= 0; i--) {
    const entry = grant.history[i];
    if (entry?.to === status) return entry;
  }
  return undefined;
}

function byAt(by: string | undefined, at: string | undefined): string {
  return `${by === undefined ? '' : ` by ${mention(by)}`}${at === undefined ? '' : ` at ${slackDate(at)}`}`;
}

function approverList(grant: Grant): string {
  const ids = grant.approvals.length > 0 ? grant.approvals.map((a) => a.by) : [grant.decidedBy ?? 'keyturn'];
  return ids.map(mention).join(', ');
}

/** "until <date>" once approved; before that the window starts at approval, so only the length is known. */
function until(grant: Grant): string {
  return grant.expiresAt === undefined
    ? `until ${formatDuration(grant.durationMinutes)} after approval`
    : `until ${slackDate(grant.expiresAt)}`;
}

const PING_WORDS: Record<ManagedNode['ping'], string> = {
  Online: 'online',
  ConnectionLost: 'connection lost',
  Inactive: 'inactive',
  Unknown: 'status unknown',
};

/** Online nodes first (those are the ones a user can reach now), otherwise in the order the fleet gave them. */
function onlineFirst(nodes: readonly ManagedNode[]): ManagedNode[] {
  return [...nodes.filter((n) => n.ping === 'Online'), ...nodes.filter((n) => n.ping !== 'Online')];
}

function nodeCount(nodes: readonly ManagedNode[]): string {
  const { total, offline } = countOnline(nodes);
  return `${plural(total, 'node', 'nodes')} (${offline} offline)`;
}

function nodeLines(nodes: readonly ManagedNode[]): string[] {
  const sorted = onlineFirst(nodes);
  const lines = sorted.slice(0, NODE_LIST_CAP).map((n) => {
    const id = `\`${escapeMrkdwn(n.id)}\``;
    const label =
      n.name === undefined || n.name === '' ? id : `${truncate(escapeMrkdwn(n.name), MAX_NODE_NAME)} ${id}`;
    return `• ${label}${n.ping === 'Online' ? '' : ` — ${PING_WORDS[n.ping]}`}`;
  });
  if (sorted.length > NODE_LIST_CAP) lines.push(`…and ${sorted.length - NODE_LIST_CAP} more`);
  return lines;
}

function nodeSection(target: Target, nodes: readonly ManagedNode[]): string {
  return [`*Nodes tagged ${tagList(target)} right now:* ${nodeCount(nodes)}`, ...nodeLines(nodes)].join('\n');
}

function allowedSection(grant: Grant, target: Target): string {
  return [
    `*If approved, ${escapeMrkdwn(describePrincipal(grant.principal))} can:*`,
    ...target.documents.map((d) => `• start ${DOCUMENT_DESCRIPTIONS[d]}`),
    '• end and resume their own sessions',
    '• read-only discovery: list sessions and nodes, check connection status',
    ...(target.runAs === undefined ? [] : [`• sessions run as OS user \`${escapeMrkdwn(target.runAs)}\``]),
    `Only on nodes tagged ${tagList(target)}, ${until(grant)}.`,
  ].join('\n');
}

function button(text: string, actionId: string, grantId: string, style: 'primary' | 'danger'): Button {
  // Button text is capped at 75 characters and value at 2,000 (FACTS.md); a grant id is far shorter.
  return { type: 'button', text: plain(text, 75), action_id: actionId, value: grantId, style };
}

function statusBlocks(grant: Grant, target: Target): KnownBlock[] {
  const move = lastMove(grant, grant.status);
  switch (grant.status) {
    case 'pending': {
      const approvedBy =
        grant.approvals.length === 0
          ? ''
          : ` — approved by ${grant.approvals.map((a) => mention(a.by)).join(', ')}`;
      const actions: ActionsBlock = {
        type: 'actions',
        elements: [
          button('Approve', ACTION_APPROVE, grant.id, 'primary'),
          button('Deny', ACTION_DENY, grant.id, 'danger'),
        ],
      };
      const need = target.approvals;
      return [
        section(
          `*Pending:* ${grant.approvals.length} of ${plural(need, 'approval', 'approvals')}${approvedBy}`,
        ),
        actions,
      ];
    }
    case 'approved':
      return [
        section(
          `*Approved* by ${approverList(grant)}${byAt(undefined, grant.decidedAt ?? move?.at)} — setting up access…`,
        ),
      ];
    case 'active':
      return [section(`*Active* ${until(grant)} — approved by ${approverList(grant)}`)];
    case 'denied': {
      const reason = grant.denyReason?.trim() ? escapeMrkdwn(grant.denyReason.trim()) : 'no reason given';
      return [
        section(`*Denied*${byAt(grant.decidedBy ?? move?.by, grant.decidedAt ?? move?.at)} — ${reason}`),
      ];
    }
    case 'failed':
      return [section(`*Failed:* ${escapeMrkdwn(grant.failureReason ?? 'unknown error')}`)];
    case 'cancelled':
      return [section(`*Cancelled*${byAt(move?.by, move?.at)}`)];
    case 'lapsed':
      return [section(`*Lapsed*${byAt(undefined, move?.at)}: no decision in time, so nothing was granted`)];
    case 'expired':
      return [section(`*Expired*${byAt(undefined, move?.at ?? grant.expiresAt)}; access removed`)];
    case 'revoked':
      return [section(`*Revoked*${byAt(move?.by, move?.at)}; access removed`)];
    case 'released':
      return [section(`*Released early*${byAt(move?.by, move?.at)}; access removed`)];
  }
}

/** The approval card in the requests channel; updated in place as the grant moves. */
export function requestCard(view: RequestCardView): SlackMessage {
  const { grant, target, nodes } = view;
  const targetField =
    target.description === ''
      ? targetLabel(target)
      : `${targetLabel(target)} — ${escapeMrkdwn(target.description)}`;
  const reason = grant.reason.trim() === '' ? 'none given' : escapeMrkdwn(grant.reason);
  const blocks: KnownBlock[] = [
    header(`Access request ${grant.id}`),
    {
      type: 'section',
      fields: [
        md(`*Requester*\n${mention(grant.requester)}`, MAX_FIELD_TEXT),
        md(`*Target*\n${targetField}`, MAX_FIELD_TEXT),
        md(`*Duration*\n${formatDuration(grant.durationMinutes)}`, MAX_FIELD_TEXT),
        md(`*Reason*\n${reason}`, MAX_FIELD_TEXT),
      ],
    },
    section(nodeSection(target, nodes)),
    section(allowedSection(grant, target)),
    ...statusBlocks(grant, target),
  ];
  const text = `Access request ${grant.id} for ${targetLabel(target)} (${formatDuration(grant.durationMinutes)}) by ${mention(grant.requester)}: ${grant.status}`;
  return { text, blocks };
}

function startSessionCommand(nodes: readonly ManagedNode[], region: string): string {
  const first = onlineFirst(nodes)[0];
  const target = first === undefined ? '&lt;node-id&gt;' : escapeMrkdwn(first.id);
  const note =
    first === undefined
      ? '\nNo node carries these tags right now.'
      : first.ping === 'Online'
        ? ''
        : '\nNo node is online right now; this one may come back.';
  return `*Start a session:*\n\`\`\`aws ssm start-session --target ${target} --region ${escapeMrkdwn(region)}\`\`\`${note}`;
}

function sshConfig(region: string): string {
  // %h and %p are filled in by ssh; the host patterns cover EC2 (i-) and hybrid (mi-) node ids.
  return [
    '*SSH:* add this to `~/.ssh/config`, then `ssh` to a node by its id:',
    '```Host i-* mi-*',
    `  ProxyCommand sh -c "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p' --region ${escapeMrkdwn(region)}"\`\`\``,
  ].join('\n');
}

/** Personal messages to the requester, sent by DM. */
export function notice(n: Notice): SlackMessage {
  const { grant, target } = n;
  const request = `Your request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)}`;
  switch (n.kind) {
    case 'approved': {
      const text = `${request} was approved by ${approverList(grant)}; setting up access…`;
      return { text, blocks: [section(text)] };
    }
    case 'denied': {
      const text = `${request} was denied by ${mention(grant.decidedBy ?? lastMove(grant, 'denied')?.by ?? 'keyturn')}.`;
      const reason = grant.denyReason?.trim() ? escapeMrkdwn(grant.denyReason.trim()) : 'no reason given';
      return { text, blocks: [section(`${text}\n*Reason:* ${reason}`)] };
    }
    case 'failed': {
      const text = `${request} was approved, but Keyturn could not set up access.`;
      return {
        text,
        blocks: [
          section(
            [
              text,
              `*What failed:* ${escapeMrkdwn(grant.failureReason ?? 'unknown error')}`,
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
      const blocks: KnownBlock[] = [
        section(
          `*Access to ${targetLabel(target)} is ready* (request ${escapeMrkdwn(grant.id)}), ${ends}.${runAs}`,
        ),
        section([`*Nodes:* ${nodeCount(n.nodes)}`, ...nodeLines(n.nodes)].join('\n')),
        section(startSessionCommand(n.nodes, n.region)),
      ];
      if (target.documents.includes('ssh')) blocks.push(section(sshConfig(n.region)));
      const endsAt = grant.expiresAt === undefined ? ends : `ends ${slackDate(grant.expiresAt)}`;
      // The expiry is a condition inside the IAM policy (DESIGN.md "The grant policy"), not a Keyturn timer.
      blocks.push(
        context(`Access ${endsAt} even if Keyturn is down: the end time is written into the IAM policy.`),
      );
      return {
        text: `Access to ${targetLabel(target)} is ready (request ${escapeMrkdwn(grant.id)}), ${ends}.`,
        blocks,
      };
    }
  }
}

/** Asks the denier for an optional reason; the listener reads it from BLOCK_DENY_REASON / INPUT_DENY_REASON. */
export function denyReasonModal(grantId: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_DENY_REASON,
    // private_metadata comes back untouched in view_submission (max 3,000 characters).
    private_metadata: grantId,
    // Modal title, submit and close labels are capped at 24 characters.
    title: plain('Deny access request', 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(`Deny request *${escapeMrkdwn(grantId)}*? The requester sees the reason you give.`),
      {
        type: 'input',
        block_id: BLOCK_DENY_REASON,
        optional: true,
        label: plain('Reason', 2000),
        element: {
          type: 'plain_text_input',
          action_id: INPUT_DENY_REASON,
          multiline: true,
          max_length: DENY_REASON_MAX_LENGTH,
        },
      },
    ],
  };
}
