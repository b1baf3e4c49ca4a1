import { randomBytes } from 'node:crypto';
import type { Logger } from '../../ports/logger';
import { isRecord, type Json, parseJson } from './json-http';
import { findButton, viewStateValues } from './block-kit-input';
import type { FakeSlackApi, PostedMessage } from './fake-slack-api';
import { RequestRefused } from './request-guard';
import type { SandboxChannel, SandboxPerson } from './sandbox-workspace';
import {
  appHomeOpened,
  buttonClick,
  homeButtonClick,
  newTriggerId,
  postSigned,
  slashCommand,
  viewSubmission,
} from './slack-requests';

/** Slack shows a failed command as coming from Slackbot, only to the person who typed it. */
export const SLACKBOT = 'USLACKBOT';
/** Slack gives up on a slash command or a click that is not acknowledged within 3 s (FACTS.md). */
const ACK_DEADLINE_MS = 3_000;

export interface SlackDriverOptions {
  workspace: { people: SandboxPerson[]; channels: SandboxChannel[] };
  /** Display names of people and channels, Slackbot included. */
  names: Readonly<Record<string, string>>;
  slack: FakeSlackApi;
  /** This server's own base URL: the page's requests go to `<botUrl>/slack/events` over loopback. */
  botUrl: () => string;
  signingSecret: string;
  /** Slash commands the app defines (slack-app-manifest.yml); anything else is "not a valid command". */
  commands: readonly string[];
  /** Resolves when the bot's queued work is done, so an answer to the page already shows its effect. */
  settle(): Promise<void>;
  logger: Logger;
}

/** What a response_url is bound to: where the command was typed or the button clicked, and by whom. */
interface ResponseTarget {
  user: string;
  channel: string;
  /** The message a button sat on: `replace_original` / `delete_original` act on it. */
  messageTs?: string;
}

/**
 * Slack's side of the sandbox: what a person does on the page (a command, a message, a click, a modal
 * submit, opening Home) reaches the bot as Slack would send it, a signed HTTP request to
 * `/slack/events` over loopback, and what the bot answers in the HTTP response or to a response_url is
 * recorded in the sandbox's Slack (FakeSlackApi), as Slack would show it.
 */
export function createSlackDriver(opts: SlackDriverOptions) {
  const { workspace, names } = opts;
  const people = new Map(workspace.people.map((p) => [p.id, p]));
  /** trigger_id → the person whose click issued it: views.open with it opens a modal for them. */
  const triggers = new Map<string, string>();
  const closedViews = new Set<string>();
  const responseUrls = new Map<string, ResponseTarget>();

  const requirePerson = (body: Json): string => {
    const user = typeof body.user === 'string' ? body.user : '';
    if (!people.has(user)) throw new RequestRefused(400, `unknown person ${JSON.stringify(user)}`);
    return user;
  };

  const canSee = (user: string, m: PostedMessage): boolean =>
    (m.visibleTo === undefined || m.visibleTo === user) &&
    (!isDirectMessage(m.channel) || m.channel === opts.slack.dmChannelOf(user));

  const requireChannel = (user: string, body: Json): string => {
    const channel = typeof body.channel === 'string' ? body.channel : '';
    const known = workspace.channels.some((c) => c.id === channel);
    if (!known && channel !== opts.slack.dmChannelOf(user))
      throw new RequestRefused(400, `${user} is not in channel ${JSON.stringify(channel)}`);
    return channel;
  };

  const channelName = (user: string, channel: string) =>
    channel === opts.slack.dmChannelOf(user) ? 'directmessage' : (names[channel] ?? channel);

  const issueTrigger = (user: string): string => {
    const id = newTriggerId();
    triggers.set(id, user);
    return id;
  };

  const responseUrl = (target: ResponseTarget): string => {
    const token = randomBytes(12).toString('hex');
    responseUrls.set(token, target);
    return `${opts.botUrl()}/sandbox/response/${token}`;
  };

  const send = async (body: string, contentType?: string) => {
    const started = Date.now();
    const res = await postSigned(opts.botUrl(), body, {
      secret: opts.signingSecret,
      ...(contentType ? { contentType } : {}),
    });
    return { ...res, ms: Date.now() - started };
  };

  /** Slack's own words when an app fails a command; shown by Slackbot to the person who typed it. */
  const slackbotSays = (user: string, channel: string, text: string) =>
    opts.slack.record({ channel, text, blocks: [], visibleTo: user, author: SLACKBOT });

  /** Records what a slash command's HTTP response (or a response_url) asks Slack to show. */
  const showResponse = (target: ResponseTarget, reply: Json) => {
    const text = typeof reply.text === 'string' ? reply.text : '';
    const blocks = Array.isArray(reply.blocks) ? reply.blocks : [];
    if (reply.delete_original === true && target.messageTs) {
      opts.slack.remove(target.channel, target.messageTs);
      return;
    }
    if (reply.replace_original === true && target.messageTs) {
      opts.slack.replace(target.channel, target.messageTs, { text, blocks });
      return;
    }
    if (!text && blocks.length === 0) return;
    const threadTs = typeof reply.thread_ts === 'string' ? { threadTs: reply.thread_ts } : {};
    if (reply.response_type === 'in_channel')
      opts.slack.record({ channel: target.channel, text, blocks, ...threadTs });
    else opts.slack.record({ channel: target.channel, text, blocks, visibleTo: target.user, ...threadTs });
  };

  async function command(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const channel = requireChannel(user, body);
    const typed = (typeof body.text === 'string' ? body.text : '').trim();
    const match = /^(\/\S+)\s*([\s\S]*)$/.exec(typed);
    if (!match) throw new RequestRefused(400, 'a slash command starts with /');
    const [, name = '', text = ''] = match;
    if (!opts.commands.includes(name)) {
      slackbotSays(
        user,
        channel,
        `\`${name}\` is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`,
      );
      return { ok: false, error: 'invalid_command' };
    }
    const target: ResponseTarget = { user, channel };
    const res = await send(
      slashCommand(user, text, name, channel, {
        channelName: channelName(user, channel),
        triggerId: issueTrigger(user),
        responseUrl: responseUrl(target),
      }),
    );
    if (res.status !== 200) {
      slackbotSays(user, channel, `\`${name}\` failed with the error "dispatch_failed"`);
      opts.logger.warn(
        { command: name, status: res.status, body: res.body },
        'sandbox: the bot refused a command',
      );
      return { ok: false, error: 'dispatch_failed', status: res.status };
    }
    const reply = parseJson(res.body);
    if (reply?.response_type === 'in_channel')
      opts.slack.record({ channel, text: typed, blocks: [], author: user });
    if (reply) showResponse(target, reply);
    if (res.ms > ACK_DEADLINE_MS) late(user, channel, name, res.ms);
    await opts.settle();
    return { ok: true, ms: res.ms };
  }

  /** Slack would have dropped the answer; the sandbox keeps it but says so, since the bot must ack in time. */
  function late(user: string, channel: string, what: string, ms: number) {
    slackbotSays(
      user,
      channel,
      `\`${what}\` took ${(ms / 1000).toFixed(1)} s to answer. Slack waits 3 s and would have shown "operation_timeout" instead of the reply.`,
    );
  }

  async function message(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const channel = requireChannel(user, body);
    const text = (typeof body.text === 'string' ? body.text : '').trim();
    if (!text) throw new RequestRefused(400, 'empty message');
    const threadTs = typeof body.threadTs === 'string' && body.threadTs ? { threadTs: body.threadTs } : {};
    const command = /^\/\S+/.exec(text)?.[0];
    if (threadTs.threadTs && command) {
      // The sandbox sends slash commands from the channel's message box only; say so where it was typed.
      opts.slack.record({
        channel,
        text: `\`${escapeText(command)}\` was not sent: in this sandbox, slash commands go in the channel's message box, not in a thread. Nothing was posted.`,
        blocks: [],
        visibleTo: user,
        author: SLACKBOT,
        ...threadTs,
      });
      return { ok: false, error: 'command_in_thread' };
    }
    // Keyturn subscribes to no message events (slack-app-manifest.yml), so this stays between people.
    opts.slack.record({ channel, text: escapeText(text), blocks: [], author: user, ...threadTs });
    return { ok: true };
  }

  async function action(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const found = opts.slack.messages.find((m) => m.channel === body.channel && m.ts === body.ts);
    if (!found || !canSee(user, found)) throw new RequestRefused(404, 'no such message');
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const button = findButton(found.blocks, actionId, body.blockId);
    if (!button) throw new RequestRefused(404, `no button ${JSON.stringify(actionId)} on that message`);
    const ephemeral = found.visibleTo !== undefined;
    const res = await send(
      buttonClick({
        user,
        actionId,
        value: button.value ?? '',
        blockId: button.blockId,
        card: { channel: found.channel, ts: found.ts },
        channelName: channelName(user, found.channel),
        isEphemeral: ephemeral,
        message: {
          ts: found.ts,
          text: found.text,
          blocks: found.blocks,
          ...(found.threadTs ? { threadTs: found.threadTs } : {}),
        },
        triggerId: issueTrigger(user),
        responseUrl: responseUrl({ user, channel: found.channel, messageTs: found.ts }),
      }),
    );
    if (res.ms > ACK_DEADLINE_MS) late(user, found.channel, `the ${button.label} button`, res.ms);
    await opts.settle();
    return res.status === 200 ? { ok: true, ms: res.ms } : { ok: false, status: res.status };
  }

  async function submitView(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const opened = opts.slack.views.find((v) => v.id === body.viewId && triggers.get(v.triggerId) === user);
    if (!opened || closedViews.has(opened.id)) throw new RequestRefused(404, 'no such open view');
    const view = opened.view;
    const res = await send(
      viewSubmission({
        user,
        callbackId: typeof view.callback_id === 'string' ? view.callback_id : '',
        privateMetadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
        values: viewStateValues(view, isRecord(body.values) ? body.values : {}),
        viewId: opened.id,
        triggerId: issueTrigger(user),
      }),
    );
    const reply = parseJson(res.body);
    if (res.status === 200 && reply?.response_action === 'errors') {
      // The modal stays open with the errors under their inputs, as in Slack.
      return { ok: false, errors: reply.errors };
    }
    if (res.status !== 200) return { ok: false, status: res.status, errors: {} };
    closedViews.add(opened.id);
    if (reply?.response_action === 'update' && isRecord(reply.view)) {
      // The modal stays open showing the view the app answered with, as in Slack.
      const id = `V${randomBytes(4).toString('hex').toUpperCase()}`;
      opts.slack.views.push({ id, triggerId: opened.triggerId, view: reply.view });
    }
    await opts.settle();
    return { ok: true };
  }

  function closeView(body: Json): Json {
    const user = requirePerson(body);
    const opened = opts.slack.views.find((v) => v.id === body.viewId && triggers.get(v.triggerId) === user);
    if (opened) closedViews.add(opened.id);
    return { ok: true };
  }

  /** Opening Keyturn's Home tab: Slack sends the Events API's app_home_opened, as JSON. */
  async function openHome(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const res = await send(appHomeOpened(user), 'application/json');
    await opts.settle();
    return res.status === 200 ? { ok: true, ms: res.ms } : { ok: false, status: res.status };
  }

  /** A click on a button of the person's Home tab; only a button the tab shows with that value is sent. */
  async function homeAction(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const home = opts.slack.homes.get(user);
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const value = typeof body.value === 'string' ? body.value : '';
    const shown = (Array.isArray(home?.blocks) ? home.blocks : []).some(
      (block) =>
        isRecord(block) &&
        Array.isArray(block.elements) &&
        block.elements.some((e) => isRecord(e) && e.action_id === actionId && e.value === value),
    );
    if (!shown) throw new RequestRefused(404, `no button ${JSON.stringify(actionId)} on your Home tab`);
    const res = await send(homeButtonClick({ user, actionId, value, triggerId: issueTrigger(user) }));
    await opts.settle();
    return res.status === 200 ? { ok: true, ms: res.ms } : { ok: false, status: res.status };
  }

  function response(token: string, body: Json): Json {
    const target = responseUrls.get(token);
    if (!target) throw new RequestRefused(404, 'unknown response_url');
    showResponse(target, body);
    return { ok: true };
  }

  return {
    requirePerson,
    /** The messages this person's Slack shows: no one else's ephemerals, no one else's DMs. */
    visibleMessages: (user: string) => opts.slack.messages.filter((m) => canSee(user, m)),
    /** The modal open for this person: the last view opened with one of their triggers, not closed since. */
    openModal: (user: string) =>
      opts.slack.views.filter((v) => triggers.get(v.triggerId) === user && !closedViews.has(v.id)).at(-1),
    /** The bot's POST to a response_url it was given (the random path is its token). */
    response,
    /** The page's Slack actions, by API path. */
    posts: {
      '/sandbox/api/command': command,
      '/sandbox/api/message': message,
      '/sandbox/api/action': action,
      '/sandbox/api/view/submit': submitView,
      '/sandbox/api/view/close': closeView,
      '/sandbox/api/home/open': openHome,
      '/sandbox/api/home/action': homeAction,
    } satisfies Record<string, (body: Json) => Promise<Json> | Json>,
    /** Forgets triggers, closed views and response_urls (the sandbox was reset). */
    forget(): void {
      triggers.clear();
      closedViews.clear();
      responseUrls.clear();
    },
  };
}

function isDirectMessage(channel: string): boolean {
  return channel.startsWith('D');
}

/** What a person types is plain text to Slack: the three mrkdwn control characters are escaped. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
