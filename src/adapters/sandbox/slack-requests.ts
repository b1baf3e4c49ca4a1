import { createHmac } from 'node:crypto';

/*
 * What Slack sends to a bot's Request URL, built the way Slack builds it: form-encoded slash
 * commands, `payload=<json>` interactions, signed with the app's signing secret. The sandbox page
 * reaches the bot only through these, so the bot under test cannot tell the sandbox from Slack.
 * (https://docs.slack.dev/interactivity/implementing-slash-commands,
 * https://docs.slack.dev/reference/interaction-payloads)
 */

const TEAM = { id: 'T0SANDBOX', domain: 'sandbox' };
const APP_ID = 'A0KEYTURN';
/** Nothing listens here: a bot that tried to use a response_url it was not given fails loudly. */
const NO_RESPONSE_URL = 'http://127.0.0.1:1/unused';

/** Slack's request signature: v0= + hex HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`) (FACTS.md). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  secret: string;
  /** Seconds since the epoch; defaults to now. Bolt refuses anything older than 5 minutes. */
  timestamp?: number;
  signature?: string;
  retryNum?: number;
  /** Events API requests are JSON; slash commands and interactions are form-encoded. */
  contentType?: string;
}

/** POSTs a body to `<url>/slack/events` with Slack's headers and signature; answers status and raw body. */
export async function postSigned(
  url: string,
  body: string,
  opts: SendOptions,
): Promise<{ status: number; body: string }> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': opts.signature ?? sign(opts.secret, timestamp, body),
  };
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const res = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

export interface SlashCommandExtras {
  channelName?: string;
  triggerId?: string;
  responseUrl?: string;
}

export function slashCommand(
  user: string,
  text: string,
  command = '/access',
  channel = 'C0WORK',
  extras: SlashCommandExtras = {},
): string {
  return new URLSearchParams({
    token: 'legacy-verification-token-unused',
    team_id: TEAM.id,
    team_domain: TEAM.domain,
    channel_id: channel,
    channel_name: extras.channelName ?? 'work',
    user_id: user,
    user_name: user.toLowerCase(),
    command,
    text,
    api_app_id: APP_ID,
    response_url: extras.responseUrl ?? NO_RESPONSE_URL,
    trigger_id: extras.triggerId ?? newTriggerId(),
  }).toString();
}

/** The message a button sat on, as Slack echoes it back in `block_actions`. */
export interface ClickedMessage {
  ts: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
}

export function buttonClick(opts: {
  user: string;
  actionId: string;
  value: string;
  card: { channel: string; ts: string };
  blockId?: string;
  channelName?: string;
  message?: ClickedMessage;
  isEphemeral?: boolean;
  triggerId?: string;
  responseUrl?: string;
}): string {
  const message: Record<string, unknown> = {
    type: 'message',
    ts: opts.card.ts,
    text: opts.message?.text ?? '',
  };
  if (opts.message?.blocks) message.blocks = opts.message.blocks;
  if (opts.message?.threadTs) message.thread_ts = opts.message.threadTs;
  return interaction('block_actions', opts.user, {
    channel: { id: opts.card.channel, name: opts.channelName ?? 'approvals' },
    container: {
      type: 'message',
      message_ts: opts.card.ts,
      channel_id: opts.card.channel,
      is_ephemeral: opts.isEphemeral ?? false,
    },
    // Slack leaves the message out for ephemeral ones; the container still names it.
    ...(opts.isEphemeral ? {} : { message }),
    trigger_id: opts.triggerId ?? newTriggerId(),
    response_url: opts.responseUrl ?? NO_RESPONSE_URL,
    actions: [buttonAction(opts.actionId, opts.blockId ?? 'b', opts.value)],
  });
}

export function viewSubmission(opts: {
  user: string;
  callbackId: string;
  privateMetadata: string;
  values: unknown;
  viewId?: string;
  triggerId?: string;
}): string {
  return interaction('view_submission', opts.user, {
    trigger_id: opts.triggerId ?? newTriggerId(),
    view: {
      id: opts.viewId ?? 'V0DENY',
      type: 'modal',
      callback_id: opts.callbackId,
      private_metadata: opts.privateMetadata,
      state: { values: opts.values },
      hash: 'h',
    },
  });
}

/** The Events API's `app_home_opened` (https://docs.slack.dev/reference/events/app_home_opened), as JSON. */
export function appHomeOpened(user: string): string {
  return JSON.stringify({
    token: 'legacy-verification-token-unused',
    team_id: TEAM.id,
    api_app_id: APP_ID,
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'app_home_opened',
      user,
      channel: `D${user.replace(/^U/, '')}`,
      tab: 'home',
      event_ts: String(Date.now() / 1000),
    },
  });
}

/** A button click on a person's Home tab: the container is the view, and there is no channel. */
export function homeButtonClick(opts: {
  user: string;
  actionId: string;
  value: string;
  triggerId?: string;
}): string {
  return interaction('block_actions', opts.user, {
    container: { type: 'view', view_id: `VHOME${opts.user}` },
    view: { id: `VHOME${opts.user}`, type: 'home' },
    trigger_id: opts.triggerId ?? newTriggerId(),
    actions: [buttonAction(opts.actionId, 'b', opts.value)],
  });
}

/** A global shortcut from Slack's shortcut menu (https://docs.slack.dev/interactivity/implementing-shortcuts). */
export function globalShortcut(opts: { user: string; callbackId: string; triggerId?: string }): string {
  return interaction('shortcut', opts.user, {
    callback_id: opts.callbackId,
    trigger_id: opts.triggerId ?? newTriggerId(),
    action_ts: String(Date.now() / 1000),
  });
}

/**
 * An interaction payload as Slack posts it (https://docs.slack.dev/interactivity/handling-user-interaction):
 * the envelope every kind shares, then the kind's own fields, form-encoded as `payload=<JSON>`.
 */
function interaction(type: string, user: string, fields: Record<string, unknown>): string {
  const payload = {
    type,
    api_app_id: APP_ID,
    team: TEAM,
    user: { id: user, username: user.toLowerCase(), team_id: TEAM.id },
    ...fields,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** One clicked button in `actions`. */
function buttonAction(actionId: string, blockId: string, value: string) {
  return {
    type: 'button',
    action_id: actionId,
    block_id: blockId,
    value,
    action_ts: String(Date.now() / 1000),
  };
}

/** Slack's trigger ids look like `<n>.<n>.<hex>`; Keyturn only passes them back to views.open. */
export function newTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${Math.random().toString(16).slice(2, 14)}`;
}
