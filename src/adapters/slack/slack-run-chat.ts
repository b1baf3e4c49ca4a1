import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../../domain/grant';
import type { ServedPlaces } from '../../domain/place';
import type { RunChat } from '../../ports/run-chat';
import type { SlackMessage } from './block-kit';
import { postMessage, updateMessage } from './chat-calls';
import { runApprovalCard } from './run-card-blocks';
import { runGroupMessages } from './run-group-blocks';
import { runMessage } from './run-message-blocks';
import { runResultsMessage } from './run-result-blocks';

/**
 * The RunChat port on the Slack Web API: the run's message where `/run` was typed, node results in
 * its thread, the approval card in the requests channel. The bot must be a member of the channel
 * (`not_in_channel` otherwise). Errors become ChatError, with Slack's error string as the code.
 */
export function createSlackRunChat(opts: {
  client: WebClient;
  /** Keyturn's accounts and regions (`config.aws`): a run's messages name its place when there are several. */
  served: ServedPlaces;
  pacing?: PostPacing;
}): RunChat {
  const { client, served } = opts;
  const pacing = opts.pacing ?? realTimePacing();
  /** When each channel may take its next post. */
  const nextPostAt = new Map<string, number>();

  /**
   * chat.postMessage allows about one message per second per channel, with short bursts
   * (https://docs.slack.dev/apis/web-api/rate-limits): each post takes the channel's next free
   * second, reserved before waiting, so concurrent posters queue instead of bursting.
   */
  async function paced(channel: string): Promise<void> {
    const now = pacing.now();
    const slot = Math.max(now, nextPostAt.get(channel) ?? 0);
    nextPostAt.set(channel, slot + pacing.intervalMs);
    if (slot > now) await pacing.sleep(slot - now);
  }

  async function post(channel: string, message: SlackMessage, threadTs?: string): Promise<MessageRef> {
    await paced(channel);
    // An S3 link in a result must not unfurl into a preview of someone's output.
    return postMessage(client, channel, message, { ...(threadTs ? { threadTs } : {}), unfurl: false });
  }

  function update(ref: MessageRef, message: SlackMessage): Promise<void> {
    return updateMessage(client, ref, message);
  }

  return {
    postRunMessage: (channel, view) => post(channel, runMessage(view, served)),
    updateRunMessage: (ref, view) => update(ref, runMessage(view, served)),
    async postResults(thread, view) {
      await post(thread.channel, runResultsMessage(view), thread.ts);
    },
    async postResultGroups(thread, view) {
      for (const message of runGroupMessages(view)) await post(thread.channel, message, thread.ts);
    },
    postApprovalCard: (channel, view) => post(channel, runApprovalCard(view, served)),
    updateApprovalCard: (ref, view) => update(ref, runApprovalCard(view, served)),
  };
}

/** How posts to one channel are spaced: real time by default; tests and the benchmark pass their clock. */
export interface PostPacing {
  intervalMs: number;
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** One post per second per channel, on the process's clock. */
export function realTimePacing(): PostPacing {
  return {
    intervalMs: 1_000,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
