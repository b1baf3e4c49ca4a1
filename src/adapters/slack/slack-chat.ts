import type { MessageRef } from '../../domain/grant';
import type { Chat } from '../../ports/chat';
import { auditMessage } from './audit-alert-blocks';
import { auditLineMessage } from './audit-blocks';
import type { SlackMessage } from './block-kit';
import { ChatError, callSlack, postMessage, updateMessage } from './chat-calls';
import { extensionCard } from './extension-card-blocks';
import { homeTab } from './home-blocks';
import { notice } from './notice-blocks';
import { requestCard } from './request-card-blocks';
import { createSlackAckChat, type SlackChatOptions } from './slack-ack-chat';

export type { SlackChatOptions } from './slack-ack-chat';

/** The Chat port on the Slack Web API. The client comes from the composition root (STYLE.md point 3). */
export function createSlackChat(opts: SlackChatOptions): Chat {
  const { client, clock, served } = opts;
  // A user's DM channel with the bot never changes, so it is cached for the life of the process.
  const dmChannels = new Map<string, string>();

  function post(channel: string, message: SlackMessage): Promise<MessageRef> {
    return postMessage(client, channel, message);
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

  return {
    ...createSlackAckChat(opts),

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
  };
}
