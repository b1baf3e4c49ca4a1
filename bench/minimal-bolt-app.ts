import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';

/**
 * The yardstick for item 3: the smallest useful Bolt app on Lambda, one slash command behind
 * AwsLambdaReceiver, secrets from the environment, bot ids given so Bolt calls no auth.test.
 * Bundled with exactly the slack function's esbuild settings, so the ratio measures Keyturn's own cost.
 */
const receiver = new AwsLambdaReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '' });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  logLevel: LogLevel.WARN,
  ...(process.env.SLACK_BOT_ID && process.env.SLACK_BOT_USER_ID
    ? { botId: process.env.SLACK_BOT_ID, botUserId: process.env.SLACK_BOT_USER_ID }
    : {}),
  ...(process.env.SLACK_API_URL ? { clientOptions: { slackApiUrl: process.env.SLACK_API_URL } } : {}),
});

app.command('/hello', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'hello' });
});

export const handler = receiver.toHandler();
