import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import { createSignedParametersReader } from '../adapters/aws/ssm-parameters';
import { createDynamoGrantStore } from '../adapters/dynamodb/grant-store';
import { readCompiledConfig } from '../config/compiled';
import type { Config } from '../config/types';
import type { GrantStore } from '../ports/grant-store';
import type { Logger } from '../ports/logger';
import type { WorkQueue } from '../ports/work-queue';
import { botIdentity } from './bot-identity';
import { createSlackSecretSource, type SlackSecrets } from './secrets';
import { SLACK_RETRIES } from './slack-retries';

/**
 * What every Lambda composition root shares, and nothing more: the config as plain data (validated
 * when packaged, src/config/compiled.ts), the table's grant store, the queue, the Slack secrets (one
 * signed GetParameters, src/adapters/aws/ssm-parameters.ts) and the Bolt app. The clients and the
 * logger are each function's choice (`RuntimeParts`): the slack function's signed HTTP transport and
 * small logger (lambda-slack.ts), the SDK's clients and pino for the others (lambda-runtime.ts), so a
 * bundle carries only its own. Nothing here may import the sandbox, dynalite, yaml, zod or an AWS SDK
 * client.
 */
export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export type SlackHandler = ReturnType<AwsLambdaReceiver['toHandler']>;

/** The table's document client and the queue, as a function builds them. */
export interface Transport {
  dynamo: DynamoDBDocumentClient;
  queue: WorkQueue;
}

export interface RuntimeParts<T extends Transport> {
  logger(level: string): Logger;
  transport(context: { env: NodeJS.ProcessEnv; region: string; queueUrl: string }): T;
}

export type Runtime<T extends Transport = Transport> = T & {
  config: Config;
  logger: Logger;
  tableName: string;
  grants: GrantStore;
  /** The current Slack secrets; the same object until a refresh finds rotated values. */
  secrets(): Promise<SlackSecrets>;
};

export function startRuntimeWith<T extends Transport>(parts: RuntimeParts<T>): Runtime<T> {
  const env = process.env;
  const logger = parts.logger(env.LOG_LEVEL ?? 'info');
  const config = readCompiledConfig({ env, cwd: process.cwd() });
  const tableName = required('KEYTURN_TABLE');
  const secrets = createSlackSecretSource({
    env,
    readParameters: createSignedParametersReader({ env, region: config.aws.region }),
    now: () => Date.now(),
    onStale: (e) => logger.warn({ parameter: e.source, err: e.message }, 'using cached Slack secrets'),
  });
  const transport = parts.transport({
    env,
    region: config.aws.region,
    queueUrl: required('KEYTURN_QUEUE_URL'),
  });
  return {
    ...transport,
    config,
    logger,
    tableName,
    grants: createDynamoGrantStore({ documentClient: transport.dynamo, tableName }),
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
export function containerWith<T extends Transport, W>(
  parts: RuntimeParts<T>,
  wire: (runtime: Runtime<T>, secrets: SlackSecrets) => Promise<W>,
): () => Promise<W> {
  let runtime: Runtime<T> | undefined;
  let current: { secrets: SlackSecrets; wired: Promise<W> } | undefined;
  const get = async (): Promise<W> => {
    runtime ??= startRuntimeWith(parts);
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
