import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../ports/clock';
import { mediaType, RequestRefused, readBoundedBody, tokenMatches } from './request-guard';

export interface PostedMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: unknown[];
  /** Set for chat.postEphemeral: only this user sees it. */
  visibleTo?: string;
  updates: number;
  /** When it was posted, by the `clock` option's time; set only when that option is given. */
  postedAt?: string;
  /** The person who wrote it (sandbox page messages); unset for everything the bot posted. */
  author?: string;
}

export interface OpenedView {
  /** The id views.open answered with. */
  id: string;
  triggerId: string;
  view: Record<string, unknown>;
}

export interface FakeSlackState {
  messages: PostedMessage[];
  views: OpenedView[];
  seq: number;
}

/** What a Slack user profile holds that the sandbox shows or the bot may ask for (users.info). */
export interface FakeSlackUser {
  name: string;
  tz?: string;
}

/**
 * The part of Slack's Web API Keyturn calls, answered in memory. The sandbox serves it at
 * `SLACK_API_URL`; integration tests start it on its own port. It speaks the wire format
 * `@slack/web-api` sends (form-encoded, nested values JSON-encoded) so the bot runs unmodified.
 */
export class FakeSlackApi {
  readonly messages: PostedMessage[] = [];
  readonly views: OpenedView[] = [];
  readonly calls: { method: string; args: Record<string, unknown> }[] = [];
  /** Each person's Home tab as last published (views.publish). */
  readonly homes = new Map<string, Record<string, unknown>>();
  private readonly dmChannels = new Map<string, string>();
  private clockSeconds = 1_700_000_000;
  private seq = 0;

  constructor(
    private readonly opts: {
      userGroups?: Record<string, readonly string[]>;
      botUserId?: string;
      /** Stamps `postedAt` on every message, so the sandbox page can show when it was posted. */
      clock?: Clock;
      users?: Readonly<Record<string, FakeSlackUser>>;
      /**
       * The bot token calls must carry (`Authorization: Bearer …`, as @slack/web-api sends it); a call
       * without it is answered `invalid_auth`, as Slack does. Unset, any call is taken (tests on their own port).
       */
      token?: string;
    } = {},
  ) {}

  /**
   * Records a message that did not come through the Web API: a slash command's reply (Slack shows
   * it from the HTTP response), or something a person typed in the sandbox page.
   */
  record(message: Omit<PostedMessage, 'ts' | 'updates' | 'postedAt'>): PostedMessage {
    const posted: PostedMessage = { ...message, ts: this.nextTs(), updates: 0, ...this.stamp() };
    this.messages.push(posted);
    return posted;
  }

  /** Replaces a message's content, as chat.update or a response_url with replace_original does. */
  replace(channel: string, ts: string, content: { text: string; blocks: unknown[] }): boolean {
    const found = this.messages.find((m) => m.channel === channel && m.ts === ts);
    if (!found) return false;
    found.text = content.text;
    found.blocks = content.blocks;
    found.updates++;
    return true;
  }

  /** Removes a message, as chat.delete or a response_url with delete_original does. */
  remove(channel: string, ts: string): boolean {
    const index = this.messages.findIndex((m) => m.channel === channel && m.ts === ts);
    if (index < 0) return false;
    this.messages.splice(index, 1);
    return true;
  }

  /** Messages and views as plain JSON, so a sandbox can be stopped and started again. */
  snapshot(): FakeSlackState {
    return structuredClone({ messages: this.messages, views: this.views, seq: this.seq });
  }

  /** Replaces messages and views with a snapshot; with none, forgets everything (the sandbox's reset). */
  restore(state: FakeSlackState = { messages: [], views: [], seq: 0 }): void {
    const s = structuredClone(state);
    this.messages.splice(0, this.messages.length, ...s.messages);
    this.views.splice(0, this.views.length, ...s.views);
    this.calls.length = 0;
    this.seq = s.seq;
  }

  /** DM channel id for a user, as conversations.open would answer. */
  dmChannelOf(user: string): string {
    let id = this.dmChannels.get(user);
    if (!id) {
      id = `D${user.replace(/^U/, '')}`;
      this.dmChannels.set(user, id);
    }
    return id;
  }

  messagesIn(channel: string): PostedMessage[] {
    return this.messages.filter((m) => m.channel === channel);
  }

  dmsTo(user: string): PostedMessage[] {
    return this.messagesIn(this.dmChannelOf(user));
  }

  ephemeralsFor(user: string): PostedMessage[] {
    return this.messages.filter((m) => m.visibleTo === user);
  }

  /** Node http handler for `POST <prefix>/<method>`. */
  async handle(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const reply = (status: number, answer: Record<string, unknown>) => {
      // The rest of an oversize body is never read: close the connection rather than drain it.
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(status === 413 ? { connection: 'close' } : {}),
      });
      res.end(JSON.stringify(answer));
    };
    // The bot's Web API client sends no Origin; a browser always does on a POST.
    if (req.headers.origin !== undefined)
      return reply(403, {
        ok: false,
        error: "requests from web pages are refused: this is the bot's Web API",
      });
    const type = mediaType(req);
    if (type !== 'application/x-www-form-urlencoded' && type !== 'application/json')
      return reply(415, { ok: false, error: 'send application/x-www-form-urlencoded or application/json' });
    if (
      this.opts.token !== undefined &&
      !tokenMatches(req.headers.authorization, `Bearer ${this.opts.token}`)
    )
      return reply(200, { ok: false, error: 'invalid_auth' });
    let body: string;
    try {
      body = await readBoundedBody(req);
    } catch (error) {
      if (error instanceof RequestRefused) return reply(error.status, { ok: false, error: error.message });
      throw error;
    }
    const args = parseBody(body, type);
    this.calls.push({ method, args });
    reply(200, this.answer(method, args));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const str = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : '');
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          user_id: this.opts.botUserId ?? 'UKEYTURN',
          bot_id: 'BKEYTURN',
          team_id: 'TSANDBOX',
        };
      case 'conversations.open': {
        const users = str('users');
        if (!users) return { ok: false, error: 'users_not_found' };
        return { ok: true, channel: { id: this.dmChannelOf(users.split(',')[0] ?? users) } };
      }
      case 'chat.postMessage':
      case 'chat.postEphemeral': {
        // A user id as the channel posts to the app's DM with that person, as Slack does.
        const channel =
          method === 'chat.postMessage' && /^[UW][A-Z0-9]+$/.test(str('channel'))
            ? this.dmChannelOf(str('channel'))
            : str('channel');
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const message: PostedMessage = {
          channel,
          ts: this.nextTs(),
          text: str('text'),
          blocks: Array.isArray(args.blocks) ? args.blocks : [],
          updates: 0,
          ...this.stamp(),
        };
        if (str('thread_ts')) message.threadTs = str('thread_ts');
        if (method === 'chat.postEphemeral') message.visibleTo = str('user');
        this.messages.push(message);
        return method === 'chat.postMessage'
          ? { ok: true, channel, ts: message.ts, message: { text: message.text } }
          : { ok: true, message_ts: message.ts };
      }
      case 'chat.update': {
        const blocks = Array.isArray(args.blocks) ? args.blocks : [];
        if (!this.replace(str('channel'), str('ts'), { text: str('text'), blocks }))
          return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: str('channel'), ts: str('ts') };
      }
      case 'chat.delete':
        return this.remove(str('channel'), str('ts'))
          ? { ok: true, channel: str('channel'), ts: str('ts') }
          : { ok: false, error: 'message_not_found' };
      case 'chat.getPermalink': {
        const found = this.messages.find((m) => m.channel === str('channel') && m.ts === str('message_ts'));
        if (!found) return { ok: false, error: 'message_not_found' };
        const p = found.ts.replace('.', '');
        return {
          ok: true,
          channel: found.channel,
          permalink: `https://sandbox.slack.invalid/archives/${found.channel}/p${p}`,
        };
      }
      case 'views.open': {
        const view = args.view;
        if (!str('trigger_id') || typeof view !== 'object' || view === null)
          return { ok: false, error: 'invalid_arguments' };
        const id = `V${randomUUID().slice(0, 8).toUpperCase()}`;
        this.views.push({ id, triggerId: str('trigger_id'), view: view as Record<string, unknown> });
        return { ok: true, view: { id } };
      }
      case 'views.publish': {
        const view = args.view;
        if (!str('user_id') || typeof view !== 'object' || view === null)
          return { ok: false, error: 'invalid_arguments' };
        this.homes.set(str('user_id'), view as Record<string, unknown>);
        return { ok: true, view: { id: `VHOME${str('user_id')}` } };
      }
      case 'usergroups.users.list': {
        const members = this.opts.userGroups?.[str('usergroup')];
        return members ? { ok: true, users: members } : { ok: false, error: 'no_such_subteam' };
      }
      case 'users.info': {
        const known = this.opts.users?.[str('user')];
        return {
          ok: true,
          user: { id: str('user'), name: known?.name ?? str('user').toLowerCase(), tz: known?.tz ?? 'UTC' },
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private stamp(): { postedAt?: string } {
    return this.opts.clock ? { postedAt: this.opts.clock.now().toISOString() } : {};
  }

  private nextTs(): string {
    this.seq++;
    return `${this.clockSeconds + this.seq}.${String(this.seq).padStart(6, '0')}`;
  }
}

/** `@slack/web-api` form-encodes arguments and JSON-encodes nested ones (blocks, view). */
function parseBody(body: string, type: string): Record<string, unknown> {
  if (type === 'application/json') {
    const parsed = body ? safeJson(body) : {};
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
