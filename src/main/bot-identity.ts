import { WebClient } from '@slack/web-api';
import { SLACK_RETRIES } from './slack-retries';

export interface BotIdentity {
  botId: string;
  botUserId: string;
}

/**
 * The bot's ids, from SLACK_BOT_ID/SLACK_BOT_USER_ID or one awaited auth.test. Given them, Bolt makes
 * no auth.test of its own: without them it fires one from its constructor and awaits it only on the
 * first authorized request, so a failure before then is an unhandled rejection (FACTS.md; bolt-js
 * App.js singleAuthorization). Awaiting it here turns a bad token into a clear startup error.
 */
export async function botIdentity(opts: {
  token: string;
  env: Record<string, string | undefined>;
  slackApiUrl?: string;
}): Promise<BotIdentity> {
  const { SLACK_BOT_ID: botId, SLACK_BOT_USER_ID: botUserId } = opts.env;
  if (botId && botUserId) return { botId, botUserId };
  const client = new WebClient(opts.token, {
    retryConfig: SLACK_RETRIES,
    ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : {}),
  });
  let answer: Awaited<ReturnType<WebClient['auth']['test']>>;
  try {
    answer = await client.auth.test();
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error ?? (error as Error).message;
    throw new Error(`Slack auth.test failed (${code}): check SLACK_BOT_TOKEN and that Slack is reachable`);
  }
  if (!answer.bot_id || !answer.user_id)
    throw new Error('Slack auth.test did not name the bot: is this a bot token?');
  return { botId: answer.bot_id, botUserId: answer.user_id };
}
