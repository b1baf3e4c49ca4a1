import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import { createSignedParameterReader } from '../adapters/aws/ssm-parameters';
import { createSqsJobRetry, createSqsWorkQueue } from '../adapters/aws/sqs-work-queue';
import { createDynamoGrantStore } from '../adapters/dynamodb/grant-store';
import { createLogger } from '../adapters/logging/pino-logger';
import { readCompiledConfig } from '../config/compiled';
import type { Config } from '../config/types';
import type { GrantStore } from '../ports/grant-store';
import type { Logger } from '../ports/logger';
import type { JobRetry, WorkQueue } from '../ports/work-queue';
import { botIdentity } from './bot-identity';
import { createSlackSecretSource, type SlackSecrets } from './secrets';
import { SLACK_RETRIES } from './slack-retries';

/**
 * What every Lambda composition root shares, and nothing more: the config as plain data (validated
 * when packaged, src/config/compiled.ts), the table's grant store, the queue, the Slack secrets (one
 * signed GetParameter each, src/adapters/aws/ssm-parameters.ts) and the Bolt app. Each function's
 * root (lambda-slack.ts, lambda.ts) adds only what its own use cases call, so a bundle carries only
 * those clients. Nothing here may import the sandbox, dynalite, yaml or zod.
 */
export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export type SlackHandler = ReturnType<AwsLambdaReceiver['toHandler']>;

export interface Runtime {
  config: Config;
  logger: Logger;
  dynamo: DynamoDBDocumentClient;
  tableName: string;
  grants: GrantStore;
  queue: WorkQueue;
  /** Brings a failed job back after a short delay instead of the queue's visibility timeout (worker-batch.ts). */
  jobRetry: JobRetry;
  /** The current Slack secrets; the same object until a refresh finds rotated values. */
  secrets(): Promise<SlackSecrets>;
}

export function startRuntime(): Runtime {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  const config = readCompiledConfig({ env: process.env, cwd: process.cwd() });
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const tableName = required('KEYTURN_TABLE');
  const secrets = createSlackSecretSource({
    env: process.env,
    readParameter: createSignedParameterReader({ env: process.env, region: config.aws.region }),
    now: () => Date.now(),
    onStale: (e) => logger.warn({ parameter: e.source, err: e.message }, 'using cached Slack secrets'),
  });
  const sqs = new SQSClient({});
  const queueUrl = required('KEYTURN_QUEUE_URL');
  return {
    config,
    logger,
    dynamo,
    tableName,
    grants: createDynamoGrantStore({ documentClient: dynamo, tableName }),
    queue: createSqsWorkQueue(sqs, queueUrl),
    jobRetry: createSqsJobRetry(sqs, queueUrl),
    secrets: () => secrets.get(),
  };
}

/** A Bolt app behind AwsLambdaReceiver for these secrets. */
export async function slackApp(secrets: SlackSecrets): Promise<{ app: App; receiver: AwsLambdaReceiver }> {
  const receiver = new AwsLambdaReceiver({ signingSecret: secrets.signingSecret });
  const app = new App({
    token: secrets.botToken,
    receiver,
    logLevel: LogLevel.WARN,
    // Known bot ids (SLACK_BOT_ID/SLACK_BOT_USER_ID, else one auth.test per container) spare Bolt an
    // auth.test of its own, whose failure it would leave unhandled (FACTS.md).
    ...(await botIdentity({
      token: secrets.botToken,
      env: process.env,
      ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
    })),
    clientOptions: {
      ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
      // A worker invocation has a time limit; SQS redelivers what fails (FACTS.md: at-least-once).
      retryConfig: SLACK_RETRIES,
    },
  });
  return { app, receiver };
}

/**
 * A container's wiring, built once at import (during Lambda's init phase, which has more CPU than an
 * invocation) and rebuilt only when the Slack secrets rotate. A failure (no config, unreadable
 * parameter) surfaces on the invocation and is retried by the next one.
 */
export function containerOf<W>(
  wire: (runtime: Runtime, secrets: SlackSecrets) => Promise<W>,
): () => Promise<W> {
  let runtime: Runtime | undefined;
  let current: { secrets: SlackSecrets; wired: Promise<W> } | undefined;
  const get = async (): Promise<W> => {
    runtime ??= startRuntime();
    const latest = await runtime.secrets();
    if (current?.secrets !== latest) {
      const wired = wire(runtime, latest);
      current = { secrets: latest, wired };
      // A failed wiring is not kept: the next invocation builds it again.
      wired.catch(() => {
        if (current?.wired === wired) current = undefined;
      });
    }
    return current.wired;
  };
  // Awaited again by the first invocation; caught here so an init failure is not an unhandled rejection.
  get().catch(() => undefined);
  return get;
}
