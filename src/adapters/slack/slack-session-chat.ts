import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../../domain/grant';
import type { ServedPlaces } from '../../domain/place';
import type { SessionChat } from '../../ports/session-chat';
import type { SlackMessage } from './block-kit';
import { postMessage } from './chat-calls';
import { digestMessage } from './digest-blocks';
import { sessionStartedReply, sessionSummary, unmatchedSessionAudit } from './session-blocks';

/** The SessionChat port on the Slack Web API. The client comes from the composition root (STYLE.md point 3). */
export function createSlackSessionChat(opts: {
  client: WebClient;
  /** Keyturn's accounts and regions (`config.aws`): summaries name a grant's place when there are several. */
  served: ServedPlaces;
}): SessionChat {
  const { client, served } = opts;

  async function post(channel: string, message: SlackMessage, thread?: MessageRef): Promise<void> {
    await postMessage(client, channel, message, thread === undefined ? {} : { threadTs: thread.ts });
  }

  return {
    postSessionStarted(thread, view) {
      // The approval card is the thread's parent (DESIGN.md "Slack rules": follow-ups go in the request's thread).
      return post(thread.channel, sessionStartedReply(view, served), thread);
    },
    postSessionSummary(thread, view) {
      return post(thread.channel, sessionSummary(view, served), thread);
    },
    postUnmatchedSession(channel, view) {
      return post(channel, unmatchedSessionAudit(view));
    },
    postDigest(channel, digest) {
      return post(channel, digestMessage(digest));
    },
  };
}
