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
import { type SweepReport, sweep } from '../app/sweep';
import { loadConfig } from '../config/load';
import { type CommandInvocationEvent, recordInvocationEvent } from '../app/record-invocation-event';
import { buildAwsClients } from './aws-clients';
import { runPorts, ssmCommandRunner } from './run-ports';
import { SLACK_RETRIES } from './slack-retries';
import { botIdentity } from './bot-identity';
import { sessionPorts } from './session-ports';
import { postDigest, type PostDigestOutcome } from '../app/post-digest';
import { recordSessionEvent } from '../app/record-session-event';
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
  const commands = ssmCommandRunner(aws.ssm, config.aws.region);
  const secrets = createSlackSecretSource({
    env: process.env,
    ssm: aws.ssm,
    now: () => Date.now(),
    onStale: (e) => logger.warn({ parameter: e.source, err: e.message }, 'using cached Slack secrets'),
  });

  async function wire(slackSecrets: SlackSecrets): Promise<Wired> {
    const receiver = new AwsLambdaReceiver({ signingSecret: slackSecrets.signingSecret });
    const app = new App({
      token: slackSecrets.botToken,
      receiver,
      logLevel: LogLevel.WARN,
      // Known bot ids (SLACK_BOT_ID/SLACK_BOT_USER_ID, else one auth.test per container) spare Bolt an
      // auth.test of its own, whose failure it would leave unhandled (FACTS.md).
      ...(await botIdentity({
        token: slackSecrets.botToken,
        env: process.env,
        ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
      })),
      clientOptions: {
        ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
        // A worker invocation has a time limit; SQS redelivers what fails (FACTS.md: at-least-once).
        retryConfig: SLACK_RETRIES,
      },
    });
    const deps: Deps = {
      config,
      grants,
      queue,
      access: createIamAccessControl(aws.iam, {
        accountId: config.aws.accountId,
        partition: config.aws.partition,
      }),
      fleet: createSsmFleet(aws.ssm),
      chat: createSlackChat({ client: app.client, clock: systemClock }),
      clock: systemClock,
      logger,
      newId: () => newGrantId(),
      ...runPorts({
        documentClient: dynamo,
        tableName: required('KEYTURN_TABLE'),
        client: app.client,
        commands,
      }),
      ...sessionPorts({
        documentClient: dynamo,
        tableName: required('KEYTURN_TABLE'),
        grants,
        client: app.client,
      }),
    };
    registerListeners(app, deps);
    return { deps, slack: receiver.toHandler() };
  }

  let current: { secrets: SlackSecrets; wired: Wired } | undefined;
  return async () => {
    const latest = await secrets.get();
    if (current?.secrets !== latest) current = { secrets: latest, wired: await wire(latest) };
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

/** Schedules → the sweeper. The 10-minute schedule sends `{ reconcile: true }` (serverless.yml). */
export function sweeperHandler(): (event: { reconcile?: boolean }) => Promise<SweepReport> {
  warmUp();
  return async (event) => sweep((await lambda()).deps, { reconcile: event?.reconcile === true });
}

/** EventBridge (CloudTrail StartSession / ResumeSession / TerminateSession) → the Session and its thread. */
export function sessionEventsHandler(): (event: unknown) => Promise<void> {
  warmUp();
  return async (event) => {
    const { deps } = await lambda();
    const outcome = await recordSessionEvent(deps, event);
    deps.logger.debug({ outcome }, 'session event');
  };
}

/** EventBridge Scheduler at digest.at in digest.timezone (serverless.yml) → yesterday's digest. */
export function digestHandler(): (event: { date?: string }) => Promise<PostDigestOutcome> {
  warmUp();
  return async (event) => postDigest((await lambda()).deps, event?.date ? { date: event.date } : {});
}

/** EventBridge "EC2 Command Invocation Status-change Notification" → the run's thread and summary. */
export function commandEventsHandler(): (event: CommandInvocationEvent) => Promise<void> {
  warmUp();
  return async (event) => {
    const { deps } = await lambda();
    const outcome = await recordInvocationEvent(deps, event);
    deps.logger.debug(
      { commandId: event.detail?.['command-id'], nodeId: event.detail?.['instance-id'], outcome },
      'command invocation status change',
    );
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
