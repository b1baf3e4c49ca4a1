import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeSlackApi } from '../../src/adapters/sandbox/fake-slack-api';

/** Slack's request signature: v0= + hex HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`) (FACTS.md). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  secret: string;
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  signature?: string;
  retryNum?: number;
}

export async function postSigned(
  url: string,
  body: string,
  opts: SendOptions,
): Promise<{ status: number; body: string }> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': opts.signature ?? sign(opts.secret, timestamp, body),
  };
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const res = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

export function slashCommand(user: string, text: string, command = '/access', channel = 'C0WORK'): string {
  return new URLSearchParams({
    token: 'legacy-verification-token-unused',
    team_id: 'T0SANDBOX',
    team_domain: 'sandbox',
    channel_id: channel,
    channel_name: 'work',
    user_id: user,
    user_name: user.toLowerCase(),
    command,
    text,
    api_app_id: 'A0KEYTURN',
    response_url: 'http://127.0.0.1:1/unused',
    trigger_id: `trigger-${Math.random()}`,
  }).toString();
}

export function buttonClick(opts: {
  user: string;
  actionId: string;
  value: string;
  card: { channel: string; ts: string };
}): string {
  const payload = {
    type: 'block_actions',
    api_app_id: 'A0KEYTURN',
    team: { id: 'T0SANDBOX', domain: 'sandbox' },
    user: { id: opts.user, username: opts.user.toLowerCase(), team_id: 'T0SANDBOX' },
    channel: { id: opts.card.channel, name: 'approvals' },
    container: {
      type: 'message',
      message_ts: opts.card.ts,
      channel_id: opts.card.channel,
      is_ephemeral: false,
    },
    message: { type: 'message', ts: opts.card.ts, text: '' },
    trigger_id: `trigger-${Math.random()}`,
    response_url: 'http://127.0.0.1:1/unused',
    actions: [
      {
        type: 'button',
        action_id: opts.actionId,
        block_id: 'b',
        value: opts.value,
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function viewSubmission(opts: {
  user: string;
  callbackId: string;
  privateMetadata: string;
  values: unknown;
}): string {
  const payload = {
    type: 'view_submission',
    api_app_id: 'A0KEYTURN',
    team: { id: 'T0SANDBOX', domain: 'sandbox' },
    user: { id: opts.user, username: opts.user.toLowerCase(), team_id: 'T0SANDBOX' },
    trigger_id: `trigger-${Math.random()}`,
    view: {
      id: 'V0DENY',
      type: 'modal',
      callback_id: opts.callbackId,
      private_metadata: opts.privateMetadata,
      state: { values: opts.values },
      hash: 'h',
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A fake Slack Web API on its own localhost port, for `SLACK_API_URL`. */
export async function startFakeSlack(
  opts: ConstructorParameters<typeof FakeSlackApi>[0] = {},
): Promise<{ api: FakeSlackApi; url: string; close(): Promise<void> }> {
  const api = new FakeSlackApi(opts);
  const server: Server = createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    void api.handle(req, res, method);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    api,
    url: `http://127.0.0.1:${port}/api/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
