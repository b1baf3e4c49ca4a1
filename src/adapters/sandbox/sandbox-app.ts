import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/types';
import { principalOfUser } from '../../domain/person';
import type { Principal } from '../../domain/principal';
import { SESSION_DOCUMENTS } from '../../domain/target';
import type { SessionInfo } from '../../ports/fleet';
import type { Logger } from '../../ports/logger';
import type { FakeSlackApi, PostedMessage } from './fake-slack-api';
import type { SandboxClock } from './sandbox-clock';
import { sandboxNames, sandboxWorkspace } from './sandbox-workspace';
import { PAGE_FILES, servePage } from './page-files';
import type { SimulatedAccount } from './simulated-account';
import {
  crossOriginProblem,
  isLoopbackHost,
  mediaType,
  readBoundedBody,
  RequestRefused,
  tokenMatches,
} from './request-guard';
import {
  appHomeOpened,
  buttonClick,
  homeButtonClick,
  newTriggerId,
  postSigned,
  slashCommand,
  viewSubmission,
} from './slack-requests';

export { isLoopbackHost };

/** Slack shows a failed command as coming from Slackbot, only to the person who typed it. */
export const SLACKBOT = 'USLACKBOT';
/** Slack gives up on a slash command or a click that is not acknowledged within 3 s (FACTS.md). */
const ACK_DEADLINE_MS = 3_000;
/** The longest jump the clock control accepts: a week covers every duration, warning, lapse and digest. */
const MAX_CLOCK_STEP_MS = 7 * 24 * 60 * 60_000;
/** The header the page sends its token in: a custom header, which no other origin can send without a preflight. */
export const PAGE_TOKEN_HEADER = 'x-keyturn-page-token';
/** Stops inside one jump; past it the jump goes straight to its end (a week of due times is far fewer). */
const MAX_CLOCK_STEPS = 200;

/**
 * A simulated session's start as EventBridge delivers CloudTrail's record of `StartSession` on AWS
 * (FACTS.md: source aws.ssm, detail-type "AWS API Call via CloudTrail"), so the same handler reads it.
 */
export interface SandboxSessionEvent {
  source: 'aws.ssm';
  'detail-type': 'AWS API Call via CloudTrail';
  detail: {
    eventSource: 'ssm.amazonaws.com';
    eventName: 'StartSession';
    eventTime: string;
    userIdentity: { arn: string };
    requestParameters: { target: string; documentName: string };
    responseElements: { sessionId: string };
  };
}

/** CloudTrail's record of a successful StartSession by the session's owner. */
export function startSessionEvent(session: SessionInfo, at: string): SandboxSessionEvent {
  return {
    source: 'aws.ssm',
    'detail-type': 'AWS API Call via CloudTrail',
    detail: {
      eventSource: 'ssm.amazonaws.com',
      eventName: 'StartSession',
      eventTime: session.startedAt ?? at,
      userIdentity: { arn: session.owner },
      requestParameters: {
        target: session.target,
        documentName: session.document ?? 'SSM-SessionManagerRunShell',
      },
      responseElements: { sessionId: session.id },
    },
  };
}

export interface SandboxAppOptions {
  config: Config;
  slack: FakeSlackApi;
  account: SimulatedAccount;
  clock: SandboxClock;
  /** This server's own base URL: the page's requests go to `<botUrl>/slack/events` over loopback. */
  botUrl: () => string;
  signingSecret: string;
  /**
   * A secret made per process: served in the page (index.html) and required in the
   * `x-keyturn-page-token` header of every API request, so only the page this server served can act.
   */
  pageToken: string;
  /** Slash commands the app defines (slack-app-manifest.yml); anything else is "not a valid command". */
  commands: readonly string[];
  /** Resolves when the bot's queued work is done, so an answer to the page already shows its effect. */
  settle(): Promise<void>;
  /** Runs after the clock moved from `from` to `to`: the sweep (expiry, warnings, lapses) and anything else now due. */
  afterClockMove(moved: { from: Date; to: Date }): Promise<void>;
  /** The next moment after `after` at which a schedule has work; a clock jump stops there on its way. */
  nextDue?(after: Date): Promise<Date | undefined>;
  /** Forgets every grant, message, policy and session, and puts the clock back to real time. */
  reset(): Promise<void>;
  /** Told of each simulated session start, as the session-events function is by EventBridge on AWS. */
  onSessionEvent?: (event: SandboxSessionEvent) => Promise<void>;
  /** Called after anything the page did, so the caller can save the sandbox's state. */
  onChange?: () => void;
  logger: Logger;
}

type Json = Record<string, unknown>;

/** What a response_url is bound to: where the command was typed or the button clicked, and by whom. */
interface ResponseTarget {
  user: string;
  channel: string;
  /** The message a button sat on: `replace_original` / `delete_original` act on it. */
  messageTs?: string;
}

/**
 * The sandbox page and its JSON API. Everything a person does on the page reaches the bot as Slack
 * would send it: a signed HTTP request to `/slack/events` on this same server, over loopback. The
 * bot answers through the sandbox's Slack Web API (FakeSlackApi), which is what the page shows.
 * Returns a request handler that answers true when it handled the request.
 */
export function createSandboxApp(
  opts: SandboxAppOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const workspace = sandboxWorkspace(opts.config);
  const names: Record<string, string> = { ...sandboxNames(opts.config), [SLACKBOT]: 'Slackbot' };
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

  const principalOf = (user: string): Principal => {
    const principal = principalOfUser(opts.config.people, user);
    if (!principal) throw new RequestRefused(403, `${names[user] ?? user} is not mapped to an AWS principal`);
    return principal;
  };

  // ---- routes ----------------------------------------------------------------------------------

  async function state(user: string): Promise<Json> {
    const principal = principalOfUser(opts.config.people, user);
    const now = opts.clock.now();
    const nodes = await Promise.all(
      opts.config.sandbox.fleet.map(async (node) => ({
        id: node.id,
        name: node.name,
        tags: node.tags,
        ping: node.ping,
        targets: Object.values(opts.config.targets)
          .filter((t) => Object.entries(t.tags).every(([k, v]) => node.tags[k] === v))
          .map((t) => t.name),
        // What IAM would answer this person right now, from the policies attached to them.
        decision: principal ? await opts.account.evaluate(principal, node.id, now.toISOString()) : 'denied',
      })),
    );
    const openViews = opts.slack.views.filter(
      (v) => triggers.get(v.triggerId) === user && !closedViews.has(v.id),
    );
    const modal = openViews.at(-1);
    return {
      now: now.toISOString(),
      offsetMs: opts.clock.offsetMs,
      me: user,
      dm: opts.slack.dmChannelOf(user),
      people: workspace.people,
      channels: workspace.channels,
      names,
      commands: opts.commands,
      targets: Object.values(opts.config.targets).map((t) => ({ name: t.name, description: t.description })),
      snippets: Object.values(opts.config.snippets).map((s) => ({
        name: s.name,
        description: s.description,
        targets: s.targets,
      })),
      messages: opts.slack.messages.filter((m) => canSee(user, m)),
      modal: modal ? { id: modal.id, view: modal.view } : null,
      // The person's Home tab as Keyturn last published it (views.publish), or null before it did.
      home: opts.slack.homes.get(user) ?? null,
      nodes,
      sessions: principal ? opts.account.openSessionsOf(principal) : [],
      region: opts.config.aws.region,
      account: opts.config.aws.accountId,
    };
  }

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

  async function startSession(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const principal = principalOf(user);
    const nodeId = typeof body.nodeId === 'string' ? body.nodeId : '';
    const kind = body.document === 'ssh' || body.document === 'port-forward' ? body.document : 'shell';
    const outcome = await opts.account.startSession(principal, nodeId, SESSION_DOCUMENTS[kind]);
    if (!outcome.ok) return { ok: false, reason: outcome.reason };
    await opts.onSessionEvent?.(startSessionEvent(outcome.session, opts.clock.now().toISOString()));
    await opts.settle();
    return { ok: true, session: outcome.session };
  }

  async function exitSession(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const principal = principalOf(user);
    const id = typeof body.sessionId === 'string' ? body.sessionId : '';
    if (!opts.account.openSessionsOf(principal).some((s) => s.id === id))
      throw new RequestRefused(404, 'no such open session of yours');
    // Typing `exit` makes no API call, so CloudTrail says nothing (FACTS.md): only DescribeSessions can tell.
    opts.account.exitSession(id);
    return { ok: true };
  }

  async function moveClock(body: Json): Promise<Json> {
    const ms = typeof body.advanceMs === 'number' ? body.advanceMs : Number.NaN;
    if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_CLOCK_STEP_MS)
      throw new RequestRefused(400, 'advanceMs must be a positive number of milliseconds, at most a week');
    // Step through every moment something falls due inside the jump (an expiry, a warning, the digest),
    // so each happens at its time, as the schedules would have run it, not at the end of the jump.
    // Counted in offset, not wall time: real time passes while the steps run, the jump is still `ms`.
    const targetOffset = opts.clock.offsetMs + ms;
    for (let step = 0; step < MAX_CLOCK_STEPS; step++) {
      const from = opts.clock.now();
      const remaining = targetOffset - opts.clock.offsetMs;
      const dueIn = ((await opts.nextDue?.(from))?.getTime() ?? Number.POSITIVE_INFINITY) - from.getTime();
      const last = dueIn >= remaining || step === MAX_CLOCK_STEPS - 1;
      opts.clock.advance(last ? remaining : Math.max(0, dueIn));
      await opts.afterClockMove({ from, to: opts.clock.now() });
      if (last) break;
    }
    return { ok: true, now: opts.clock.now().toISOString(), offsetMs: opts.clock.offsetMs };
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

  async function reset(): Promise<Json> {
    await opts.reset();
    triggers.clear();
    closedViews.clear();
    responseUrls.clear();
    return { ok: true };
  }

  function response(token: string, body: Json): Json {
    const target = responseUrls.get(token);
    if (!target) throw new RequestRefused(404, 'unknown response_url');
    showResponse(target, body);
    return { ok: true };
  }

  const posts: Record<string, (body: Json) => Promise<Json> | Json> = {
    '/sandbox/api/command': command,
    '/sandbox/api/message': message,
    '/sandbox/api/action': action,
    '/sandbox/api/view/submit': submitView,
    '/sandbox/api/view/close': closeView,
    '/sandbox/api/home/open': openHome,
    '/sandbox/api/home/action': homeAction,
    '/sandbox/api/session/start': startSession,
    '/sandbox/api/session/exit': exitSession,
    '/sandbox/api/clock': moveClock,
    '/sandbox/api/reset': reset,
  };

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    query: URLSearchParams,
  ) {
    if (req.method === 'GET' && PAGE_FILES[pathname])
      return servePage(res, PAGE_FILES[pathname], opts.pageToken);
    const responseToken = /^\/sandbox\/response\/([0-9a-f]+)$/.exec(pathname)?.[1];
    const crossOrigin = crossOriginProblem(req);
    if (crossOrigin) throw new RequestRefused(403, crossOrigin);
    if (req.method === 'POST' && responseToken) {
      // The bot posts to its response_url with JSON (Bolt's respond()); the random path is its token.
      return sendJson(res, 200, response(responseToken, await readJson(req)));
    }
    if (!tokenMatches(req.headers[PAGE_TOKEN_HEADER], opts.pageToken))
      throw new RequestRefused(
        403,
        `missing or wrong ${PAGE_TOKEN_HEADER}: only the page this sandbox served may use its API (reload it)`,
      );
    if (req.method === 'GET' && pathname === '/sandbox/api/state') {
      // Nobody picked yet: the first person in the config.
      const user = query.get('user') || (workspace.people[0]?.id ?? '');
      if (!people.has(user)) throw new RequestRefused(400, `unknown person ${JSON.stringify(user)}`);
      return sendJson(res, 200, await state(user));
    }
    const handler = req.method === 'POST' ? posts[pathname] : undefined;
    if (!handler) throw new RequestRefused(404, 'not found');
    const answer = await handler(await readJson(req));
    opts.onChange?.();
    return sendJson(res, 200, answer);
  }

  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      // `//[` and the like: no URL this page serves, so not the sandbox's to answer.
      return false;
    }
    const pathname = url.pathname;
    if (
      !(pathname in PAGE_FILES) &&
      !pathname.startsWith('/sandbox/api/') &&
      !pathname.startsWith('/sandbox/response/')
    )
      return false;
    if (!isLoopbackHost(req.headers.host)) {
      // Another name for 127.0.0.1 (DNS rebinding) must not let a web page act as a sandbox user.
      sendJson(res, 403, { ok: false, error: 'the sandbox answers only on localhost' });
      return true;
    }
    dispatch(req, res, pathname, url.searchParams).catch((error: unknown) => {
      const status = error instanceof RequestRefused ? error.status : 500;
      // The rest of an oversize body is never read: close the connection rather than drain it.
      if (status === 413) res.setHeader('connection', 'close');
      if (status === 500)
        opts.logger.error({ err: (error as Error).message, path: pathname }, 'sandbox request failed');
      sendJson(res, status, { ok: false, error: (error as Error).message });
    });
    return true;
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Json> {
  // A JSON content type cannot be sent cross-origin without a CORS preflight, which nothing here answers.
  if (mediaType(req) !== 'application/json')
    throw new RequestRefused(415, 'send the body as application/json');
  const text = await readBoundedBody(req);
  if (!text) return {};
  const parsed = parseJson(text);
  if (!parsed) throw new RequestRefused(400, 'body is not a JSON object');
  return parsed;
}

function parseJson(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDirectMessage(channel: string): boolean {
  return channel.startsWith('D');
}

/** What a person types is plain text to Slack: the three mrkdwn control characters are escaped. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The button with this action_id (and block_id, when given) in a message's actions blocks or section accessories. */
export function findButton(
  blocks: readonly unknown[],
  actionId: string,
  blockId?: unknown,
): { value?: string; blockId: string; label: string } | undefined {
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const id = typeof block.block_id === 'string' ? block.block_id : '';
    if (typeof blockId === 'string' && blockId !== '' && id !== '' && id !== blockId) continue;
    const elements = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory];
    for (const element of elements) {
      if (!isRecord(element) || element.type !== 'button' || element.action_id !== actionId) continue;
      const text =
        isRecord(element.text) && typeof element.text.text === 'string' ? element.text.text : actionId;
      return {
        ...(typeof element.value === 'string' ? { value: element.value } : {}),
        // Slack fills in a block_id when the app gave none; the listeners do not read it.
        blockId: id || 'sandbox-block',
        label: text,
      };
    }
  }
  return undefined;
}

/**
 * `view.state.values` as Slack builds it on submit: block_id → action_id → { type, value } for every
 * input block, from what the person typed (`typed[block_id][action_id]`). Untouched inputs are null.
 */
export function viewStateValues(view: Json, typed: Json): Json {
  const values: Json = {};
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  for (const block of blocks) {
    if (!isRecord(block) || block.type !== 'input' || !isRecord(block.element)) continue;
    const blockId = typeof block.block_id === 'string' ? block.block_id : '';
    const actionId = typeof block.element.action_id === 'string' ? block.element.action_id : '';
    const given = isRecord(typed[blockId]) ? (typed[blockId] as Json)[actionId] : undefined;
    if (block.element.type === 'static_select') {
      // Slack sends the picked option whole; only an option the select offers can be picked.
      const options = Array.isArray(block.element.options) ? block.element.options : [];
      const picked = options.find((o) => isRecord(o) && o.value === given);
      values[blockId] = { [actionId]: { type: 'static_select', selected_option: picked ?? null } };
      continue;
    }
    values[blockId] = {
      [actionId]: {
        type: block.element.type,
        value: typeof given === 'string' && given !== '' ? given : null,
      },
    };
  }
  return values;
}
