import type { WebClient } from '@slack/web-api';
import type { ServedPlaces } from '../../domain/place';
import type { AckChat } from '../../ports/chat';
import type { Clock } from '../../ports/clock';
import { callSlack } from './chat-calls';

/** User groups change rarely, and approval clicks come in bursts; 5 minutes keeps usergroups.users.list (Tier 2) quiet. */
const DEFAULT_GROUP_CACHE_MS = 5 * 60_000;

export interface SlackChatOptions {
  client: WebClient;
  clock: Clock;
  /** Keyturn's accounts and regions (`config.aws`): messages name a grant's account and region when there are several. */
  served: ServedPlaces;
  groupCacheMs?: number;
}

/**
 * The ack path's part of the Chat port on the Slack Web API: who is in an approver group, cached (the
 * slack function's whole Chat, src/main/lambda-slack.ts; createSlackChat adds the rest). The client
 * comes from the composition root (STYLE.md point 3).
 */
export function createSlackAckChat(opts: SlackChatOptions): AckChat {
  const { client, clock } = opts;
  const groupCacheMs = opts.groupCacheMs ?? DEFAULT_GROUP_CACHE_MS;
  // Promises are cached, not results, so concurrent lookups of one group share one request.
  const groups = new Map<string, { fetchedAt: number; members: Promise<readonly string[]> }>();

  async function fetchMembers(groupId: string): Promise<readonly string[]> {
    const res = await callSlack('usergroups.users.list', () =>
      client.usergroups.users.list({ usergroup: groupId }),
    );
    return Object.freeze([...(res.users ?? [])]);
  }

  return {
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
