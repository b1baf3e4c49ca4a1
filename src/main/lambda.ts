import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { newGrantId } from '../adapters/grant-ids';
import { createSlackChat } from '../adapters/slack/slack-chat';
import { systemClock } from '../adapters/system-clock';
import type { Deps } from '../app/deps';
import type { JobRetry } from '../ports/work-queue';
import { type PostDigestOutcome, postDigest } from '../app/post-digest';
import { type CommandInvocationEvent, recordInvocationEvent } from '../app/record-invocation-event';
import { recordSessionEvent } from '../app/record-session-event';
import { SWEEP_CUTOFF_MS, type SweepReport, sweep } from '../app/sweep';
import type { AwsPlaces } from '../ports/aws-places';
import { grantorCredentials, realAwsPlaces } from './aws-places';
import { containerOf, slackApp } from './lambda-runtime';
import { runPorts } from './run-ports';
import { sessionPorts } from './session-ports';
import { runJobBatch } from './worker-batch';

/**
 * The composition root of every Lambda function but slack (whose ack path has its own,
 * src/main/lambda-slack.ts): the worker, the sweeper, the digest and the two EventBridge consumers,
 * each with the full set of ports. Config, clients and the Slack secrets are read once per container
 * (src/main/lambda-runtime.ts); the Slack app is rebuilt only when a refresh finds rotated secrets.
 * Nothing here may import the sandbox or dynalite: they are devDependencies, never bundled.
 */
interface Wired {
  deps: Deps;
  jobRetry: JobRetry;
}

function fullContainer(opts: { readQuotasAtStart?: boolean } = {}): () => Promise<Wired> {
  return containerOf(
    async (runtime, secrets, aws: AwsPlaces) => {
      const { config } = runtime;
      const { app } = await slackApp(secrets);
      const table = { documentClient: runtime.dynamo, tableName: runtime.tableName };
      const deps: Deps = {
        config,
        grants: runtime.grants,
        queue: runtime.queue,
        aws,
        chat: createSlackChat({ client: app.client, clock: systemClock, served: config.aws }),
        clock: systemClock,
        logger: runtime.logger,
        newId: () => newGrantId(),
        ...runPorts({ ...table, client: app.client, served: config.aws }),
        ...sessionPorts({
          ...table,
          grants: runtime.grants,
          client: app.client,
          home: config.aws,
          served: config.aws,
        }),
      };
      return { deps, jobRetry: runtime.jobRetry };
    },
    // Built once per container while the secrets' read travels (lambda-container.ts); each account's
    // quotas are read once, and the worker starts that read now, beside the secrets' (issue 13).
    (runtime): AwsPlaces => {
      const { config } = runtime;
      const aws = realAwsPlaces({
        config,
        credentialsFor: grantorCredentials(config),
        ...(opts.readQuotasAtStart ? { readQuotasAtStart: true } : {}),
      });
      if (opts.readQuotasAtStart) aws.access(config.aws.accountId);
      return aws;
    },
  );
}

/** SQS → worker, reporting partial batch failures so only the failed messages are redelivered. */
export function workerHandler(): (event: SQSEvent) => Promise<SQSBatchResponse> {
  // The worker applies grants: it reads the account's IAM quotas as it starts, off the approval path.
  const container = fullContainer({ readQuotasAtStart: true });
  return async (event) => {
    const { deps, jobRetry } = await container();
    return runJobBatch(deps, event, jobRetry);
  };
}

/** Schedules → the sweeper. The 10-minute schedule sends `{ reconcile: true }` (serverless.yml). */
export function sweeperHandler(): (event: { reconcile?: boolean }) => Promise<SweepReport> {
  const container = fullContainer();
  return async (event) => {
    // Started before the container: a cold start's wait counts against the same 55 s timeout.
    const cutoff = AbortSignal.timeout(SWEEP_CUTOFF_MS);
    return sweep((await container()).deps, { reconcile: event?.reconcile === true, cutoff });
  };
}

/** EventBridge (CloudTrail StartSession / ResumeSession / TerminateSession) → the Session and its thread. */
export function sessionEventsHandler(): (event: unknown) => Promise<void> {
  const container = fullContainer();
  return async (event) => {
    const { deps } = await container();
    const outcome = await recordSessionEvent(deps, event);
    deps.logger.debug({ outcome }, 'session event');
  };
}

/** EventBridge Scheduler at digest.at in digest.timezone (serverless.yml) → yesterday's digest. */
export function digestHandler(): (event: { date?: string }) => Promise<PostDigestOutcome> {
  const container = fullContainer();
  return async (event) => postDigest((await container()).deps, event?.date ? { date: event.date } : {});
}

/** EventBridge "EC2 Command Invocation Status-change Notification" → the run's thread and summary. */
export function commandEventsHandler(): (event: CommandInvocationEvent) => Promise<void> {
  const container = fullContainer();
  return async (event) => {
    const { deps } = await container();
    const outcome = await recordInvocationEvent(deps, event);
    deps.logger.debug(
      { commandId: event.detail?.['command-id'], nodeId: event.detail?.['instance-id'], outcome },
      'command invocation status change',
    );
  };
}
