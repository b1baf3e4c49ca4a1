import { type ChatPostMessageResponse, ErrorCode, type WebClient } from '@slack/web-api';
import type { MessageRef } from '../../domain/grant';
import type { SlackMessage } from './block-kit';

/**
 * A failed Slack Web API call. `code` is Slack's own error string (`channel_not_found`,
 * `not_in_channel`, `ratelimited`, …, https://docs.slack.dev/reference/methods) or, when Slack was
 * never reached, `request_error` / `http_error`. Messages name the method, never the token.
 */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  readonly code: string;
  readonly method: string;

  constructor(method: string, code: string, options?: { cause?: unknown; detail?: string }) {
    super(`Slack ${method} failed: ${code}${options?.detail ? ` (${redactTokens(options.detail)})` : ''}`, {
      cause: options?.cause,
    });
    this.code = code;
    this.method = method;
  }
}

/** Slack tokens start xoxb-, xoxp-, xapp-, …; a transport message that echoes one must not reach a log. */
function redactTokens(text: string): string {
  return text.replace(/\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g, '[redacted]');
}

function toChatError(method: string, e: unknown): ChatError {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case ErrorCode.PlatformError: {
      const data = (e as { data?: { error?: unknown } }).data;
      return new ChatError(method, typeof data?.error === 'string' ? data.error : 'unknown_error', {
        cause: e,
      });
    }
    case ErrorCode.RateLimitedError:
      // Slack's own error string for HTTP 429 (https://docs.slack.dev/apis/web-api/rate-limits).
      return new ChatError(method, 'ratelimited', { cause: e });
    case ErrorCode.HTTPError:
      return new ChatError(method, 'http_error', {
        cause: e,
        detail: `HTTP ${(e as { statusCode?: unknown }).statusCode}`,
      });
    case ErrorCode.RequestError:
      return new ChatError(method, 'request_error', { cause: e, detail: (e as Error).message });
    default:
      return new ChatError(method, 'unknown_error', { cause: e });
  }
}

export async function callSlack<T>(method: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toChatError(method, e);
  }
}

/** Where chat.postMessage put the message; an answer without both is not one Keyturn can update later. */
export function postedRef(res: ChatPostMessageResponse): MessageRef {
  if (typeof res.channel !== 'string' || typeof res.ts !== 'string')
    throw new ChatError('chat.postMessage', 'invalid_response', { detail: 'no channel or ts in the answer' });
  return { channel: res.channel, ts: res.ts };
}

/** Posts a message (chat.postMessage), in a thread when `threadTs` is given, and returns where it landed. */
export async function postMessage(
  client: WebClient,
  channel: string,
  message: SlackMessage,
  opts: { threadTs?: string; unfurl?: false } = {},
): Promise<MessageRef> {
  const res = await callSlack('chat.postMessage', () =>
    client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
      ...(opts.unfurl === false ? { unfurl_links: false, unfurl_media: false } : {}),
    }),
  );
  return postedRef(res);
}

/** Rewrites a card or message in place (chat.update), as it was posted: same channel and ts. */
export async function updateMessage(
  client: WebClient,
  ref: MessageRef,
  message: SlackMessage,
): Promise<void> {
  await callSlack('chat.update', () =>
    client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks }),
  );
}
