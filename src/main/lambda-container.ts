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

/** What a container reads and builds before anything else: cheap, and enough to send the secrets' read. */
export type StartedRuntime<T extends Transport = Transport> = T & {
  config: Config;
  logger: Logger;
  tableName: string;
  /** The current Slack secrets; the same object until a refresh finds rotated values. */
  secrets(): Promise<SlackSecrets>;
};

export type Runtime<T extends Transport = Transport> = StartedRuntime<T> & {
  grants: GrantStore;
};

export function startRuntimeWith<T extends Transport>(parts: RuntimeParts<T>): StartedRuntime<T> {
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
  return { ...transport, config, logger, tableName, secrets: () => secrets.get() };
}

/** The table's grant store: dynamodb-toolbox builds its entities' schemas here, a cold start's largest own CPU cost. */
function withStores<T extends Transport>(started: StartedRuntime<T>): Runtime<T> {
  return {
    ...started,
    grants: createDynamoGrantStore({ documentClient: started.dynamo, tableName: started.tableName }),
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

/** One turn of the event loop: a request created in this turn starts connecting in the next. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A container's wiring, started at import (during Lambda's init phase) and rebuilt only when the
 * Slack secrets rotate. A failure (no config, unreadable parameter) surfaces on the invocation and is
 * retried by the next one.
 *
 * A cold start waits on one network round trip, the secrets' read, and the secrets are needed only
 * to build the Bolt app. So the read is sent first, and what needs no secret (the stores, and
 * whatever `prepare` builds) is built in the next turn of the event loop, while the request connects
 * and its answer travels (BENCHMARKS.md, item 3). On Lambda that turn comes once the handler module
 * has loaded, in the first invocation, beside a Parameter Store round trip far longer than the stores
 * take. Both are built once per container.
 */
export function containerWith<T extends Transport, W>(
  parts: RuntimeParts<T>,
  wire: (runtime: Runtime<T>, secrets: SlackSecrets) => Promise<W>,
): () => Promise<W>;
export function containerWith<T extends Transport, W, P>(
  parts: RuntimeParts<T>,
  wire: (runtime: Runtime<T>, secrets: SlackSecrets, prepared: P) => Promise<W>,
  prepare: (runtime: Runtime<T>) => P,
): () => Promise<W>;
export function containerWith<T extends Transport, W, P>(
  parts: RuntimeParts<T>,
  wire: (runtime: Runtime<T>, secrets: SlackSecrets, prepared?: P) => Promise<W>,
  prepare?: (runtime: Runtime<T>) => P,
): () => Promise<W> {
  let started: StartedRuntime<T> | undefined;
  let ready: Promise<{ runtime: Runtime<T>; prepared: P | undefined }> | undefined;
  let current: { secrets: SlackSecrets; wired: Promise<W> } | undefined;
  const get = async (): Promise<W> => {
    started ??= startRuntimeWith(parts);
    const from = started;
    const reading = from.secrets();
    if (!ready) {
      const building = nextTurn().then(() => {
        const runtime = withStores(from);
        return { runtime, prepared: prepare?.(runtime) };
      });
      ready = building;
      // A failed build is not kept: the next invocation builds again.
      building.catch(() => {
        if (ready === building) ready = undefined;
      });
    }
    const [{ runtime, prepared }, latest] = await Promise.all([ready, reading]);
    if (current?.secrets !== latest) {
      const wired = wire(runtime, latest, prepared);
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
