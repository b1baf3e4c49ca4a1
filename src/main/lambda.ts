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
import { buildAwsClients } from './aws-clients';

/**
 * The Lambda composition root. Everything is built once per container, at cold start, and shared
 * by every invocation. Nothing here may import the sandbox or dynalite: they are devDependencies.
 */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function buildLambdaDeps() {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  const config = loadConfig({ env: process.env, cwd: process.cwd(), log: (msg) => logger.info({}, msg) });
  const aws = buildAwsClients({ region: config.aws.region });
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const receiver = new AwsLambdaReceiver({ signingSecret: required('SLACK_SIGNING_SECRET') });
  const app = new App({
    token: required('SLACK_BOT_TOKEN'),
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
    grants: createDynamoGrantStore({ documentClient: dynamo, tableName: required('KEYTURN_TABLE') }),
    queue: createSqsWorkQueue(new SQSClient({}), required('KEYTURN_QUEUE_URL')),
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

let built: ReturnType<typeof buildLambdaDeps> | undefined;
function lambda() {
  built ??= buildLambdaDeps();
  return built;
}

type SlackHandler = ReturnType<AwsLambdaReceiver['toHandler']>;

/** Builds at import (Lambda's init phase, which has more CPU than an invocation), not on the first request. */
export function slackHandler(): SlackHandler {
  const { slack } = lambda();
  return (event, context) => slack(event, context);
}

/** SQS → worker, reporting partial batch failures so only the failed messages are redelivered. */
export function workerHandler(): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const { deps } = lambda();
  return (event) => runJobBatch(deps, event);
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
