import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createSignedDocumentClient } from '../adapters/aws/signed-dynamodb';
import { createSignedSqsWorkQueue } from '../adapters/aws/signed-sqs';
import { createDynamoRunRecords } from '../adapters/dynamodb/command-run-store';
import { newGrantId } from '../adapters/grant-ids';
import { createJsonLogger } from '../adapters/logging/json-logger';
import { registerListeners } from '../adapters/slack/listeners';
import { createSlackAckChat } from '../adapters/slack/slack-ack-chat';
import { systemClock } from '../adapters/system-clock';
import type { AckDeps } from '../app/deps';
import type { CommandRunRecords } from '../ports/command-run-store';
import {
  containerWith,
  type Runtime,
  type RuntimeParts,
  type SlackHandler,
  slackApp,
  type Transport,
} from './lambda-container';

/**
 * The slack function's parts: DynamoDB's item calls and SQS SendMessage as signed HTTP requests
 * (src/adapters/aws/signed-*.ts) instead of the SDK's clients, and a JSON logger instead of pino
 * (BENCHMARKS.md, item 3). The ack path needs nothing else of AWS but the secrets.
 */
export const SLACK_PARTS: RuntimeParts<Transport> = {
  logger: (level) => createJsonLogger({ level }),
  transport: ({ env, region, queueUrl }) => ({
    // dynamodb-toolbox sends lib-dynamodb's commands; in this bundle they are signed-dynamodb's
    // (deploy/esbuild-plugins.js), which is what this client sends.
    dynamo: createSignedDocumentClient({ env, region }) as unknown as DynamoDBDocumentClient,
    queue: createSignedSqsWorkQueue({ env, region, queueUrl }),
  }),
};

/**
 * The slack function's composition root: the ack path only (validate, one conditional write,
 * enqueue, answer; DESIGN.md "Slack rules"). It builds no IAM or SSM client, no AWS SDK client at all,
 * and no session or digest store: those are the worker's and the schedules' (src/main/lambda.ts), and
 * leaving them out keeps them out of this bundle, whose cold start Slack's 3-second ack has to absorb
 * (issue 13).
 */
export function slackHandler(parts: RuntimeParts<Transport> = SLACK_PARTS): SlackHandler {
  const container = containerWith(
    parts,
    async (runtime, secrets, runs) => {
      const { app, receiver } = await slackApp(secrets);
      const deps: AckDeps = {
        config: runtime.config,
        grants: runtime.grants,
        queue: runtime.queue,
        runs,
        chat: createSlackAckChat({ client: app.client, clock: systemClock, served: runtime.config.aws }),
        clock: systemClock,
        logger: runtime.logger,
        newId: () => newGrantId(),
        // SendCommand is the worker's; the listeners only label a run's messages.
        aws: { simulated: false },
      };
      registerListeners(app, deps);
      return receiver.toHandler();
    },
    // Needs no secret: built while the secrets' read is in flight.
    (runtime: Runtime): CommandRunRecords =>
      createDynamoRunRecords({ documentClient: runtime.dynamo, tableName: runtime.tableName }),
  );
  return async (event, context) => (await container())(event, context);
}
