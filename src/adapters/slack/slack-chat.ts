import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../../domain/grant';
import type { ServedPlaces } from '../../domain/place';
import type { Chat } from '../../ports/chat';
import type { Clock } from '../../ports/clock';
import { auditLineMessage } from './audit-blocks';
import { ChatError, callSlack, postedRef, updateMessage } from './chat-calls';
import { homeTab } from './home-blocks';
import { auditMessage } from './audit-alert-blocks';
import type { SlackMessage } from './block-kit';
import { extensionCard } from './extension-card-blocks';
import { notice } from './notice-blocks';
import { requestCard } from './request-card-blocks';

/** User groups change rarely, and approval clicks come in bursts; 5 minutes keeps usergroups.users.list (Tier 2) quiet. */
const DEFAULT_GROUP_CACHE_MS = 5 * 60_000;

export interface SlackChatOptions {
  client: WebClient;
  clock: Clock;
  /** Keyturn's accounts and regions (`config.aws`): messages name a grant's account and region when there are several. */
  served: ServedPlaces;
  groupCacheMs?: number;
}

/** The Chat port on the Slack Web API. The client comes from the composition root (STYLE.md point 3). */
export function createSlackChat(opts: SlackChatOptions): Chat {
  const { client, clock, served } = opts;
  const groupCacheMs = opts.groupCacheMs ?? DEFAULT_GROUP_CACHE_MS;
  // A user's DM channel with the bot never changes, so it is cached for the life of the process.
  const dmChannels = new Map<string, string>();
  // Promises are cached, not results, so concurrent lookups of one group share one request.
  const groups = new Map<string, { fetchedAt: number; members: Promise<readonly string[]> }>();

  async function post(channel: string, message: SlackMessage): Promise<MessageRef> {
    const res = await callSlack('chat.postMessage', () =>
      client.chat.postMessage({ channel, text: message.text, blocks: message.blocks }),
    );
    return postedRef(res);
  }

  function update(ref: MessageRef, message: SlackMessage): Promise<void> {
    return updateMessage(client, ref, message);
  }

  /**
   * The thread's link as Slack itself gives it (chat.getPermalink needs no scope and knows the
   * workspace's domain). A line without its link is better than no line, so a failure only drops it.
   */
  async function permalink(ref: MessageRef): Promise<string | undefined> {
    try {
      const res = await callSlack('chat.getPermalink', () =>
        client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts }),
      );
      return typeof res.permalink === 'string' ? res.permalink : undefined;
    } catch {
      return undefined;
    }
  }

  async function dmChannel(user: string): Promise<string> {
    const cached = dmChannels.get(user);
    if (cached !== undefined) return cached;
    const res = await callSlack('conversations.open', () => client.conversations.open({ users: user }));
    const id = res.channel?.id;
    if (typeof id !== 'string') {
      throw new ChatError('conversations.open', 'invalid_response', {
        detail: 'no channel id in the answer',
      });
    }
    dmChannels.set(user, id);
    return id;
  }

  async function fetchMembers(groupId: string): Promise<readonly string[]> {
    const res = await callSlack('usergroups.users.list', () =>
      client.usergroups.users.list({ usergroup: groupId }),
    );
    return Object.freeze([...(res.users ?? [])]);
  }

  return {
    postRequestCard(channel, view) {
      return post(channel, requestCard(view, served));
    },

    updateRequestCard(ref, view) {
      return update(ref, requestCard(view, served));
    },

    postExtensionCard(channel, view) {
      return post(channel, extensionCard(view, served));
    },

    updateExtensionCard(ref, view) {
      return update(ref, extensionCard(view, served));
    },

    async postAudit(channel, event) {
      await post(channel, auditMessage(event));
    },

    async postAuditLine(channel, line) {
      await post(
        channel,
        auditLineMessage(line, line.thread ? await permalink(line.thread) : undefined, served),
      );
    },

    async notify(user, n) {
      const channel = await dmChannel(user);
      try {
        // The clock only sets the warning's "in about N minutes"; the builder stays pure.
        await post(channel, notice(n, clock.now(), served));
      } catch (e) {
        // A stale DM channel (user deactivated and restored, app reinstalled) must not stick forever.
        dmChannels.delete(user);
        throw e;
      }
    },

    async publishHome(user, view) {
      await callSlack('views.publish', () =>
        client.views.publish({ user_id: user, view: homeTab(view, served) }),
      );
    },

    userGroupMembers(groupId) {
      const now = clock.now().getTime();
      const cached = groups.get(groupId);
      if (cached !== undefined && now - cached.fetchedAt < groupCacheMs) return cached.members;
      const members = fetchMembers(groupId);
      const entry = { fetchedAt: now, members };
      groups.set(groupId, entry);
      // A failure is not cached: the next click asks Slack again.
      members.catch(() => {
        if (groups.get(groupId) === entry) groups.delete(groupId);
      });
      return members;
    },
  };
}
