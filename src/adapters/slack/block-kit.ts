import type {
  ActionsBlock,
  Button,
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { toIsoSeconds } from '../../domain/grant';

/*
 * The Block Kit primitives every Keyturn message is built from: escaping, dates, mentions, cutting
 * text to Slack's limits, and the few block shapes Keyturn uses. Each message family has its own
 * file (request-card-blocks.ts, notice-blocks.ts, run-message-blocks.ts, ...).
 */

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
 * Every message builder emits a fixed, small number of blocks whatever the input (the grant cards
 * and DMs at most 6), and long lists (nodes, session ids, principals) are capped inside one section,
 * so MAX_BLOCKS holds by construction.
 */
export const MAX_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
/** Section `fields` items are capped lower than section text. */
export const MAX_FIELD_TEXT = 2000;
/** Header blocks take plain text of at most 150 characters. */
const MAX_HEADER_TEXT = 150;
/** Nodes named on a card or DM; the rest are counted ("and 190 more") so 200 nodes still fit one section. */
export const NODE_LIST_CAP = 10;
/** Deny reasons end up in a DM section and in the card; 500 keeps both readable. */
export const DENY_REASON_MAX_LENGTH = 500;
/** An inline `code` name: SSM session ids are `<owner>-<17 hex>`, IAM names at most 128 characters; anything longer is not what we think. */
const MAX_LIST_ITEM = 160;
/** An SDK error message can quote a whole request; the first 1,000 characters say what went wrong. */
export const MAX_ERROR_TEXT = 1000;

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

/** " <date>" after a verb ("expired <date>"), or nothing when the time is not known. */
export function at(iso: string | undefined): string {
  return iso === undefined ? '' : ` ${slackDate(iso)}`;
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

export function plain(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max) };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: md(text) };
}

export function context(text: string): ContextBlock {
  return { type: 'context', elements: [md(text)] };
}

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(text, MAX_HEADER_TEXT) };
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function button(text: string, actionId: string, id: string, style?: 'primary' | 'danger'): Button {
  // Button text is capped at 75 characters and value at 2,000 (FACTS.md); a grant or run id is far shorter.
  const b: Button = { type: 'button', text: plain(text, 75), action_id: actionId, value: id };
  if (style !== undefined) b.style = style;
  return b;
}

export function actions(...elements: Button[]): ActionsBlock {
  return { type: 'actions', elements };
}

export function code(text: string, max: number = MAX_LIST_ITEM): string {
  // A backtick inside would close the code span early; AWS names and ids never contain one.
  return `\`${truncate(escapeMrkdwn(text.replace(/`/g, "'")), max)}\``;
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
