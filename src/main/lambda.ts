import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createIamAccessControl } from '../adapters/aws/iam-access-control';
import { createSqsWorkQueue, decodeJob } from '../adapters/aws/sqs-work-queue';
import { createSsmFleet } from '../adapters/aws/ssm-fleet';
import { createDynamoGrantStore } from '../adapters/dynamodb/grant-store';
import { newGrantId } from '../adapters/grant-ids';
import { createLogger } from '../adapters/logging/pino-logger';
import { registerListeners } from '../adapters/slack/listeners';
import { createSlackChat } from '../adapters/slack/slack-chat';
import { systemClock } from '../adapters/system-clock';
import type { Deps } from '../app/deps';
import { handleJob } from '../app/handle-job';
import { loadConfig } from '../config/load';
import type { Logger } from '../ports/logger';
import { buildAwsClients } from './aws-clients';
import { createSlackSecretSource, type SlackSecrets } from './secrets';

/**
 * The Lambda composition root. Config, clients and the Slack secrets are read once per container,
 * at init (Lambda's init phase has more CPU than an invocation), and shared by every invocation.
 * The secrets come from SSM Parameter Store (src/main/secrets.ts) and are cached with an expiry;
 * the Slack app is rebuilt only when a refresh finds rotated values.
 * Nothing here may import the sandbox or dynalite: they are devDependencies, never bundled.
 */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

type SlackHandler = ReturnType<AwsLambdaReceiver['toHandler']>;

interface Wired {
  deps: Deps;
  slack: SlackHandler;
}

function startContainer(): () => Promise<Wired> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  const config = loadConfig({ env: process.env, cwd: process.cwd(), log: (msg) => logger.info({}, msg) });
  const aws = buildAwsClients({ region: config.aws.region });
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const grants = createDynamoGrantStore({ documentClient: dynamo, tableName: required('KEYTURN_TABLE') });
  const queue = createSqsWorkQueue(new SQSClient({}), required('KEYTURN_QUEUE_URL'));
  const secrets = createSlackSecretSource({
    env: process.env,
    ssm: aws.ssm,
    now: () => Date.now(),
    onStale: (e) => logger.warn({ parameter: e.source, err: e.message }, 'using cached Slack secrets'),
  });

  function wire(slackSecrets: SlackSecrets): Wired {
    const receiver = new AwsLambdaReceiver({ signingSecret: slackSecrets.signingSecret });
    const app = new App({
      token: slackSecrets.botToken,
      receiver,
      logLevel: LogLevel.WARN,
      // Known bot ids spare Bolt an auth.test call on the ack path (FACTS.md).
      ...(process.env.SLACK_BOT_ID && process.env.SLACK_BOT_USER_ID
        ? { botId: process.env.SLACK_BOT_ID, botUserId: process.env.SLACK_BOT_USER_ID }
        : {}),
      ...(process.env.SLACK_API_URL ? { clientOptions: { slackApiUrl: process.env.SLACK_API_URL } } : {}),
    });
    const deps: Deps = {
      config,
      grants,
      queue,
      access: createIamAccessControl(aws.iam, { accountId: config.aws.accountId }),
      fleet: createSsmFleet(aws.ssm),
      chat: createSlackChat({ client: app.client, clock: systemClock }),
      clock: systemClock,
      logger,
      newId: () => newGrantId(),
    };
    registerListeners(app, deps);
    return { deps, slack: receiver.toHandler() };
  }

  let current: { secrets: SlackSecrets; wired: Wired } | undefined;
  return async () => {
    const latest = await secrets.get();
    if (current?.secrets !== latest) current = { secrets: latest, wired: wire(latest) };
    return current.wired;
  };
}

let container: (() => Promise<Wired>) | undefined;

/**
 * Starts building at import, during Lambda's init phase, instead of on the first request. A failure
 * (bad config, unreadable parameter) surfaces on the invocation and is retried by the next one.
 */
function lambda(): Promise<Wired> {
  try {
    container ??= startContainer();
  } catch (error) {
    return Promise.reject(error);
  }
  return container();
}

function warmUp(): void {
  // Awaited again by the first invocation; caught here so an init failure is not an unhandled rejection.
  lambda().catch(() => undefined);
}

export function slackHandler(): SlackHandler {
  warmUp();
  return async (event, context) => (await lambda()).slack(event, context);
}

/** SQS → worker, reporting partial batch failures so only the failed messages are redelivered. */
export function workerHandler(): (event: SQSEvent) => Promise<SQSBatchResponse> {
  warmUp();
  return async (event) => runJobBatch((await lambda()).deps, event);
}

/**
 * For entry points whose use case is not built yet (sweeper, digest, session and command events):
 * logs what arrived and returns, so the stack is complete and the real handler can replace the
 * file without touching serverless.yml. Builds nothing else: no config, secrets or clients.
 */
export function placeholderHandler(name: string): (event: unknown) => Promise<void> {
  let logger: Logger | undefined;
  return async (event) => {
    logger ??= createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
    logger.info({ handler: name, event }, 'received; this handler is a placeholder (README "Deploy")');
  };
}

export async function runJobBatch(deps: Deps, event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const job = decodeJob(record.body);
    if (!job) {
      // Failing it sends it to the DLQ after maxReceiveCount, where it can be inspected.
      deps.logger.error({ messageId: record.messageId }, 'unreadable job message');
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      await handleJob(deps, job);
    } catch (error) {
      deps.logger.error({ messageId: record.messageId, job, err: (error as Error).message }, 'job failed');
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
