import type { WebClient } from '@slack/web-api';
import type { CallLog } from './instrument';

export interface SentMessage {
  method: string;
  args: Record<string, unknown>;
  /** When the call was answered, by `now` (the virtual clock). */
  at: number;
}

/**
 * The Slack Web API methods Keyturn's Slack adapters call, answered in memory after `latencyMs` (on
 * the virtual clock), each call logged. For the simulated measurements, where no socket may be open.
 */
export function fakeWebClient(opts: {
  log: CallLog;
  latencyMs: number;
  sleep: (ms: number) => Promise<void>;
  sent?: SentMessage[];
  now?: () => number;
}): WebClient {
  let seq = 0;
  const ts = () => `1700000000.${String(++seq).padStart(6, '0')}`;
  const method =
    (name: string, answer: (args: Record<string, unknown>) => Record<string, unknown>) =>
    async (args: Record<string, unknown> = {}) => {
      opts.log.record('Slack', name);
      if (opts.latencyMs > 0) await opts.sleep(opts.latencyMs);
      opts.sent?.push({ method: name, args, at: opts.now?.() ?? 0 });
      return { ok: true, ...answer(args) };
    };
  const client = {
    chat: {
      postMessage: method('chat.postMessage', (a) => ({ channel: a.channel, ts: ts() })),
      postEphemeral: method('chat.postEphemeral', () => ({ message_ts: ts() })),
      update: method('chat.update', (a) => ({ channel: a.channel, ts: a.ts })),
      getPermalink: method('chat.getPermalink', (a) => ({
        permalink: `https://bench.slack.invalid/archives/${String(a.channel)}/p1`,
      })),
    },
    conversations: {
      open: method('conversations.open', (a) => ({
        channel: { id: `D${String(a.users).replace(/^U/, '')}` },
      })),
    },
    usergroups: { users: { list: method('usergroups.users.list', () => ({ users: [] })) } },
    users: { info: method('users.info', (a) => ({ user: { id: a.user, tz: 'UTC' } })) },
  };
  return client as unknown as WebClient;
}
