import { type AwsProfile, profileText } from '../../domain/person';
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
import {
  addMinutes,
  type Ending,
  type Grant,
  type GrantStatus,
  type HistoryEntry,
  type HistoryEvent,
  toIsoSeconds,
} from '../../domain/grant';
import { countOnline, type ManagedNode } from '../../domain/node';
import { describePrincipal } from '../../domain/principal';
import { DOCUMENT_DESCRIPTIONS, type Target } from '../../domain/target';
import type { AuditEvent, ExtensionCardView, Notice, RequestCardView } from '../../ports/chat';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_EXTEND,
  ACTION_EXTENSION_APPROVE,
  ACTION_EXTENSION_DENY,
  ACTION_RELEASE,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
  VIEW_EXTENSION_DENY_REASON,
} from './action-ids';

/**
 * A message as chat.postMessage / chat.update take it: `text` is the notification fallback, which Slack
 * reads as mrkdwn like the blocks, so whatever Keyturn did not write itself is escaped there too.
 */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/*
 * Slack limits (FACTS.md "Slack"; https://docs.slack.dev/reference/block-kit/blocks). A message
 * that breaks one is rejected whole with `invalid_blocks`, so the card would never appear.
 * Every builder below emits a fixed, small number of blocks (at most 6) whatever the input, and
 * long lists (nodes, session ids, principals) are capped inside one section, so MAX_BLOCKS holds by
 * construction.
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
/** Revoke reasons come from a slash command, which has no input limit of its own; cut like deny reasons. */
const MAX_REASON = DENY_REASON_MAX_LENGTH;
/** Session ids and principals named in an audit message; the rest are counted, so 500 still fit one section. */
export const AUDIT_LIST_CAP = 20;
/** SSM session ids are `<owner>-<17 hex>`, IAM names at most 128 characters; anything longer is not what we think. */
const MAX_LIST_ITEM = 160;
/** IAM ARNs are at most 2,048 characters. */
const MAX_ARN = 2048;
/** An SDK error message can quote a whole request; the first 1,000 characters say what went wrong. */
const MAX_ERROR_TEXT = 1000;

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
/** Verbatim mrkdwn cut to Slack's section limit: the one way Keyturn writes text into blocks. */
export function md(text: string, max: number = MAX_SECTION_TEXT): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(text, max), verbatim: true };
}

function plain(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max) };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: md(text) };
}

export function context(text: string): ContextBlock {
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

function at(iso: string | undefined): string {
  return iso === undefined ? '' : ` ${slackDate(iso)}`;
}

function byAt(by: string | undefined, when: string | undefined): string {
  return `${by === undefined ? '' : ` by ${mention(by)}`}${at(when)}`;
}

function approverList(grant: Grant): string {
  const ids = grant.approvals.length > 0 ? grant.approvals.map((a) => a.by) : [grant.decidedBy ?? 'keyturn'];
  return ids.map(mention).join(', ');
}

function reasonText(reason: string | undefined): string {
  const trimmed = reason?.trim();
  return trimmed ? truncate(escapeMrkdwn(trimmed), MAX_REASON) : 'no reason given';
}

function sessionsEnded(grant: Grant): string {
  return `${plural(grant.sessionsEnded ?? 0, 'session', 'sessions')} ended`;
}

/** The latest history entry that recorded `event` (extension approvals keep the status, so lastMove cannot find them). */
function lastEvent(grant: Grant, event: HistoryEvent): HistoryEntry | undefined {
  for (let i = grant.history.length - 1; i >= 0; i--) {
    const entry = grant.history[i];
    if (entry?.event === event) return entry;
  }
  return undefined;
}

function isEnding(status: GrantStatus): status is Ending['status'] {
  return status === 'expired' || status === 'released' || status === 'revoked' || status === 'failed';
}

/** Failure reasons quote AWS errors: cut to a readable length, with anything secret-shaped removed. */
function failureText(grant: Grant): string {
  const reason = grant.failureReason ?? grant.ending?.reason ?? 'unknown error';
  return truncate(escapeMrkdwn(redactSecrets(reason)), MAX_ERROR_TEXT);
}

/**
 * How an active grant ended: `grant.ending` when the use case wrote one, otherwise read back from the
 * status and the move into it (a grant stored before endings existed, or a failure during apply).
 */
function endingOf(grant: Grant): Partial<Ending> & Pick<Ending, 'status'> {
  if (grant.ending !== undefined) return grant.ending;
  const status = isEnding(grant.status) ? grant.status : 'expired';
  const move = lastMove(grant, status);
  return { status, by: move?.by, at: move?.at, reason: grant.failureReason };
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

function button(text: string, actionId: string, grantId: string, style?: 'primary' | 'danger'): Button {
  // Button text is capped at 75 characters and value at 2,000 (FACTS.md); a grant id is far shorter.
  const b: Button = { type: 'button', text: plain(text, 75), action_id: actionId, value: grantId };
  if (style !== undefined) b.style = style;
  return b;
}

function actions(...elements: Button[]): ActionsBlock {
  return { type: 'actions', elements };
}

function progress(approvals: readonly { by: string }[], need: number): string {
  const approvedBy =
    approvals.length === 0 ? '' : ` — approved by ${approvals.map((a) => mention(a.by)).join(', ')}`;
  return `*Pending:* ${approvals.length} of ${plural(need, 'approval', 'approvals')}${approvedBy}`;
}

/** What an ending active grant shows on its card until the revoke steps finish. */
function endingPhrase(grant: Grant, ending: Ending): string {
  switch (ending.status) {
    case 'expired':
      return 'expired';
    case 'released':
      return `released by ${mention(ending.by)}`;
    case 'revoked':
      return `revoked by ${mention(ending.by)}: ${reasonText(ending.reason)}`;
    case 'failed':
      return `failed: ${failureText(grant)}`;
  }
}

function statusBlocks(grant: Grant, target: Target): KnownBlock[] {
  const move = lastMove(grant, grant.status);
  switch (grant.status) {
    case 'pending':
      return [
        section(progress(grant.approvals, target.approvals)),
        actions(
          button('Approve', ACTION_APPROVE, grant.id, 'primary'),
          button('Deny', ACTION_DENY, grant.id, 'danger'),
        ),
      ];
    case 'approved':
      return [
        section(
          `*Approved* by ${approverList(grant)}${byAt(undefined, grant.decidedAt ?? move?.at)} — setting up access…`,
        ),
      ];
    case 'active': {
      // The ending is written before the revoke steps run (domain/grant.ts Ending), so the card says so at once.
      if (grant.ending !== undefined)
        return [section(`*Ending:* ${endingPhrase(grant, grant.ending)} — removing access…`)];
      const extended = grant.extendedMinutes ? `; extended by ${formatDuration(grant.extendedMinutes)}` : '';
      return [section(`*Active* ${until(grant)} — approved by ${approverList(grant)}${extended}`)];
    }
    case 'denied':
      return [
        section(
          `*Denied*${byAt(grant.decidedBy ?? move?.by, grant.decidedAt ?? move?.at)} — ${reasonText(grant.denyReason)}`,
        ),
      ];
    case 'failed': {
      const line = `*Failed:* ${failureText(grant)}`;
      // Only a grant that was active had sessions to end; one that failed during apply never granted anything.
      return [section(grant.ending === undefined ? line : `${line} — ${sessionsEnded(grant)}`)];
    }
    case 'cancelled':
      return [section(`*Cancelled*${byAt(move?.by ?? grant.requester, move?.at)}`)];
    case 'lapsed':
      return [section(`*Lapsed:* nobody decided within ${formatDuration(target.approvalTimeoutMinutes)}`)];
    case 'expired': {
      // The policy's own condition ended access at expiresAt (DESIGN.md "The grant policy"), whenever the sweep ran.
      const when = grant.expiresAt ?? grant.ending?.at ?? move?.at;
      return [section(`*Expired*${at(when)} — ${sessionsEnded(grant)}`)];
    }
    case 'released': {
      const ending = endingOf(grant);
      return [
        section(
          `*Released early*${byAt(ending.by ?? grant.requester, ending.at ?? move?.at)} — ${sessionsEnded(grant)}`,
        ),
      ];
    }
    case 'revoked': {
      const ending = endingOf(grant);
      return [
        section(
          `*Revoked*${byAt(ending.by, ending.at)}: ${reasonText(ending.reason)} — ${sessionsEnded(grant)}`,
        ),
      ];
    }
  }
}

function field(label: string, value: string): MrkdwnElement {
  return md(`*${label}*\n${value}`, MAX_FIELD_TEXT);
}

function targetWithDescription(target: Target): string {
  return target.description === ''
    ? targetLabel(target)
    : `${targetLabel(target)} — ${escapeMrkdwn(target.description)}`;
}

function requestReason(grant: Grant): string {
  return grant.reason.trim() === '' ? 'none given' : escapeMrkdwn(grant.reason);
}

/** The approval card in the requests channel; updated in place as the grant moves. */
export function requestCard(view: RequestCardView): SlackMessage {
  const { grant, target, nodes } = view;
  const blocks: KnownBlock[] = [
    header(`Access request ${grant.id}`),
    {
      type: 'section',
      fields: [
        field('Requester', mention(grant.requester)),
        field('Target', targetWithDescription(target)),
        field('Duration', formatDuration(grant.durationMinutes)),
        field('Reason', requestReason(grant)),
      ],
    },
    section(nodeSection(target, nodes)),
    section(allowedSection(grant, target)),
    ...statusBlocks(grant, target),
  ];
  const text = `Access request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)} (${formatDuration(grant.durationMinutes)}) by ${mention(grant.requester)}: ${grant.status}`;
  return { text, blocks };
}

/** The view's outcome, or the one a finished extension's own state implies, so a decided card never shows buttons. */
function extensionOutcome(view: ExtensionCardView): ExtensionCardView['outcome'] {
  if (view.outcome !== undefined) return view.outcome;
  const { extension } = view;
  const by = extension.decidedBy === undefined ? {} : { by: extension.decidedBy };
  if (extension.state === 'extended') return { kind: 'extended', ...by };
  if (extension.state === 'denied')
    return {
      kind: 'denied',
      ...by,
      ...(extension.denyReason === undefined ? {} : { reason: extension.denyReason }),
    };
  return undefined;
}

function extensionStatusBlocks(view: ExtensionCardView): KnownBlock[] {
  const { grant, target, extension } = view;
  const outcome = extensionOutcome(view);
  if (outcome !== undefined) {
    switch (outcome.kind) {
      case 'extended': {
        const approvers =
          extension.approvals.length > 0
            ? extension.approvals.map((a) => mention(a.by)).join(', ')
            : mention(outcome.by ?? extension.decidedBy ?? 'keyturn');
        return [section(`*Extended* until ${slackDate(view.newExpiresAt)} (approved by ${approvers})`)];
      }
      case 'denied':
        return [section(`*Denied* by ${mention(outcome.by ?? 'keyturn')}: ${reasonText(outcome.reason)}`)];
      case 'dropped':
        return [section('*Dropped:* the grant ended first')];
    }
  }
  if (extension.state === 'approved') {
    const by =
      extension.approvals.map((a) => mention(a.by)).join(', ') || mention(extension.decidedBy ?? 'keyturn');
    return [section(`*Approved* by ${by} — extending…`)];
  }
  return [
    section(progress(extension.approvals, target.approvals)),
    actions(
      button('Approve', ACTION_EXTENSION_APPROVE, grant.id, 'primary'),
      button('Deny', ACTION_EXTENSION_DENY, grant.id, 'danger'),
    ),
  ];
}

/** Once applied, the grant already carries the new expiry; the old one is then the new one less the extra time. */
function expiryBefore(view: ExtensionCardView): string | undefined {
  const { grant, extension, newExpiresAt } = view;
  const next = Date.parse(newExpiresAt);
  if (Number.isNaN(next)) return grant.expiresAt;
  if (grant.expiresAt !== undefined && Date.parse(grant.expiresAt) < next) return grant.expiresAt;
  return addMinutes(newExpiresAt, -extension.minutes);
}

/** The approval card for extending an active grant, in the requests channel; updated in place once decided. */
export function extensionCard(view: ExtensionCardView): SlackMessage {
  const { grant, target, extension } = view;
  const limit = target.maxTotalMinutes ?? target.maxDurationMinutes;
  const outcome = extensionOutcome(view);
  const extended = outcome?.kind === 'extended';
  const before = expiryBefore(view);
  const requester =
    extension.requestedBy === grant.requester
      ? mention(grant.requester)
      : `${mention(grant.requester)} (extension asked by ${mention(extension.requestedBy)})`;
  const blocks: KnownBlock[] = [
    header(`Extension request ${grant.id}`),
    {
      type: 'section',
      fields: [
        field('Requester', requester),
        field('Target', targetWithDescription(target)),
        field(
          extended ? 'Previous expiry' : 'Current expiry',
          before === undefined ? 'not set' : slackDate(before),
        ),
        field('Extra time', formatDuration(extension.minutes)),
        field('New expiry', slackDate(view.newExpiresAt)),
        field('Total length', `${formatDuration(view.totalMinutes)} (limit ${formatDuration(limit)})`),
        field('Original reason', requestReason(grant)),
      ],
    },
    ...extensionStatusBlocks(view),
  ];
  const state = outcome?.kind ?? extension.state;
  const text = `Extension request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)} (+${formatDuration(extension.minutes)}) by ${mention(grant.requester)}: ${state}`;
  return { text, blocks };
}

/**
 * The access role's profile, pasted once into ~/.aws/config; every command below names it. Exported
 * for `/access help`, which shows the same section at any time.
 */
export function profileSection(profile: AwsProfile): string {
  return [
    `*Once:* add this to \`~/.aws/config\` (\`source_profile\`: ${escapeMrkdwn(profile.sourceProfile.meaning)}):`,
    `\`\`\`${escapeMrkdwn(profileText(profile))}\`\`\``,
  ].join('\n');
}

/** `--profile keyturn ` when the person acts through an access role, else nothing (direct attach). */
function profileFlag(profile: AwsProfile | undefined): string {
  return profile ? `--profile ${escapeMrkdwn(profile.name)} ` : '';
}

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
 * warning's "in about N minutes"; without it that part is left out.
 */
export function notice(n: Notice, now?: Date): SlackMessage {
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
      const blocks: KnownBlock[] = [
        section(
          `*Access to ${targetLabel(target)} is ready* (request ${escapeMrkdwn(grant.id)}), ${ends}.${runAs}`,
        ),
        section([`*Nodes:* ${nodeCount(n.nodes)}`, ...nodeLines(n.nodes)].join('\n')),
        ...(n.profile ? [section(profileSection(n.profile))] : []),
        section(startSessionCommand(n.nodes, n.region, n.profile)),
      ];
      if (target.documents.includes('ssh')) blocks.push(section(sshConfig(n.region, n.profile)));
      const endsAt = grant.expiresAt === undefined ? ends : `ends ${slackDate(grant.expiresAt)}`;
      // The expiry is a condition inside the IAM policy (DESIGN.md "The grant policy"), not a Keyturn timer.
      blocks.push(
        context(`Access ${endsAt} even if Keyturn is down: the end time is written into the IAM policy.`),
        actions(button("I'm done", ACTION_RELEASE, grant.id), button('Extend', ACTION_EXTEND, grant.id)),
      );
      return {
        text: `Access to ${targetLabel(target)} is ready (request ${escapeMrkdwn(grant.id)}), ${ends}.`,
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

/**
 * Secrets an error text might echo: Slack tokens, AWS access key ids, and 40-character strings shaped
 * like AWS secret keys. The audit channel is wider than the logs, so they never reach it.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g, '[redacted]')
    .replace(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[redacted]')
    .replace(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g, '[redacted]');
}

/**
 * Appends up to AUDIT_LIST_CAP items as bullet lines to `head`, then "…and N more", all within one
 * section's 3,000 characters: a cut list still says how much it left out, which truncation would not.
 */
function withList(head: readonly string[], items: readonly string[]): string {
  const more = (n: number) => `…and ${n} more`;
  const budget = MAX_SECTION_TEXT - head.join('\n').length - more(items.length).length - 1;
  const lines = [...head];
  let used = 0;
  for (const item of items) {
    const line = `• ${item}`;
    if (lines.length - head.length === AUDIT_LIST_CAP || used + line.length + 1 > budget) break;
    lines.push(line);
    used += line.length + 1;
  }
  const shown = lines.length - head.length;
  if (shown < items.length) lines.push(more(items.length - shown));
  return lines.join('\n');
}

function code(text: string, max: number = MAX_LIST_ITEM): string {
  // A backtick inside would close the code span early; AWS names and ids never contain one.
  return `\`${truncate(escapeMrkdwn(text.replace(/`/g, "'")), max)}\``;
}

function grantLabel(grant: Grant): string {
  return `grant ${escapeMrkdwn(grant.id)} (${mention(grant.requester)} on ${escapeMrkdwn(grant.target)})`;
}

const PRINCIPAL_WORDS = { user: 'IAM user', role: 'IAM role', group: 'IAM group' } as const;

/** Messages for the audit channel: each names what happened, to whom, and what a human should check. */
export function auditMessage(event: AuditEvent): SlackMessage {
  switch (event.kind) {
    case 'orphan-policy-removed': {
      const text = `Keyturn removed orphan policy ${escapeMrkdwn(event.policyArn)}: no grant explains it.`;
      const lines = [
        `*Removed an orphan Keyturn policy* ${code(event.policyArn, MAX_ARN)}: no grant explains it.`,
      ];
      if (event.grantId !== undefined)
        lines.push(`It is named for grant ${escapeMrkdwn(event.grantId)}, which is not active.`);
      if (event.detachedFrom.length === 0) {
        lines.push('It was not attached to anyone.');
        return { text, blocks: [section(lines.join('\n'))] };
      }
      lines.push('*Detached from:*');
      const principals = event.detachedFrom.map((p) => `${PRINCIPAL_WORDS[p.kind]} ${code(p.name)}`);
      return { text, blocks: [section(withList(lines, principals))] };
    }
    case 'sessions-not-ended': {
      const { grant, sessionIds } = event;
      const count = plural(sessionIds.length, 'session', 'sessions');
      const text = `${count} of grant ${escapeMrkdwn(grant.id)} may still be open after the grant ended.`;
      // TerminateSession answers success even for sessions it did not end (FACTS.md "Session Manager").
      const head = [
        `*${count} may still be open:* ${grantLabel(grant)} ended, but Keyturn could not confirm ${sessionIds.length === 1 ? 'it was' : 'they were'} terminated.`,
        'Check them and end them by hand with `aws ssm terminate-session --session-id &lt;id&gt;`:',
      ];
      return {
        text,
        blocks: [
          section(
            withList(
              head,
              sessionIds.map((id) => code(id)),
            ),
          ),
        ],
      };
    }
    case 'policy-missing': {
      const { grant } = event;
      const text = `The policy of active grant ${escapeMrkdwn(grant.id)} is missing; the grant was marked failed.`;
      const policy =
        grant.policyArn === undefined ? 'its IAM policy' : `its IAM policy ${code(grant.policyArn, MAX_ARN)}`;
      return {
        text,
        blocks: [
          section(
            `*Policy missing:* ${grantLabel(grant)} was active, but ${policy} is gone: something outside Keyturn deleted or detached it. The grant was marked failed.`,
          ),
        ],
      };
    }
    case 'revoke-failed': {
      const { grant } = event;
      const text = `Revoking grant ${escapeMrkdwn(grant.id)} failed.`;
      const error = truncate(escapeMrkdwn(redactSecrets(event.error)), MAX_ERROR_TEXT);
      // The end time is a condition inside the policy, but an open session outlives the policy (DESIGN.md "The grant policy").
      const stop =
        grant.expiresAt === undefined
          ? ''
          : ` New sessions stop at the policy's own end time, ${slackDate(grant.expiresAt)}, but open ones outlive it.`;
      return {
        text,
        blocks: [
          section(
            `*Revoking ${grantLabel(grant)} failed:* ${error}\nAccess may remain until a revoke succeeds.${stop}`,
          ),
        ],
      };
    }
    case 'grant-refused': {
      const { grant } = event;
      const what = event.step === 'extension' ? 'extend' : 'apply';
      const text = `Keyturn refused to ${what} grant ${escapeMrkdwn(grant.id)}: its stored record does not hold up.`;
      const reason = truncate(escapeMrkdwn(event.reason), MAX_ERROR_TEXT);
      const outcome =
        event.step === 'extension'
          ? 'No new policy version was made, and the grant is being ended as failed.'
          : 'Nothing was created in IAM, and the grant was marked failed.';
      return {
        text,
        blocks: [
          section(
            `*Refused to ${what} ${grantLabel(grant)}:* ${reason}.\n${outcome} Keyturn did not record it this way: check who can write to Keyturn's table.`,
          ),
        ],
      };
    }
    case 'run-refused': {
      const { run } = event;
      const text = `Keyturn refused to send run ${escapeMrkdwn(run.id)}: its stored record does not hold up.`;
      const reason = truncate(escapeMrkdwn(event.reason), MAX_ERROR_TEXT);
      return {
        text,
        blocks: [
          section(
            `*Refused to send run ${escapeMrkdwn(run.id)}* (${mention(run.requester)}: ${escapeMrkdwn(run.snippet)} on ${escapeMrkdwn(run.target)}): ${reason}.\nNothing was sent to any node, and the run was marked failed. Keyturn did not record it this way: check who can write to Keyturn's table.`,
          ),
        ],
      };
    }
  }
}

interface ReasonModal {
  callbackId: string;
  grantId: string;
  title: string;
  prompt: string;
}

function reasonModal(m: ReasonModal): ModalView {
  return {
    type: 'modal',
    callback_id: m.callbackId,
    // private_metadata comes back untouched in view_submission (max 3,000 characters).
    private_metadata: m.grantId,
    // Modal title, submit and close labels are capped at 24 characters.
    title: plain(m.title, 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(m.prompt),
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

/** Asks the denier for an optional reason; the listener reads it from BLOCK_DENY_REASON / INPUT_DENY_REASON. */
export function denyReasonModal(grantId: string): ModalView {
  return reasonModal({
    callbackId: VIEW_DENY_REASON,
    grantId,
    title: 'Deny access request',
    prompt: `Deny request *${escapeMrkdwn(grantId)}*? The requester sees the reason you give.`,
  });
}

/** Like denyReasonModal, for an extension: same input ids, its own callback id. */
export function extensionDenyReasonModal(grantId: string): ModalView {
  return reasonModal({
    callbackId: VIEW_EXTENSION_DENY_REASON,
    grantId,
    title: 'Deny extension',
    prompt: `Deny extending request *${escapeMrkdwn(grantId)}*? The requester sees the reason you give; their access still ends at its current time.`,
  });
}
