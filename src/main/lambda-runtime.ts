import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createSqsJobRetry, createSqsWorkQueue } from '../adapters/aws/sqs-work-queue';
import { createLogger } from '../adapters/logging/pino-logger';
import { limitedRequestHandler } from './aws-clients';
import type { JobRetry, WorkQueue } from '../ports/work-queue';
import type { SlackSecrets } from './secrets';
import {
  containerWith,
  type Runtime as RuntimeOf,
  type RuntimeParts,
  required,
  type SlackHandler,
  slackApp,
} from './lambda-container';

export { required, type SlackHandler, slackApp };

/**
 * The worker's, sweeper's, digest's and event functions' runtime (src/main/lambda.ts): the shared
 * container (lambda-container.ts) with the AWS SDK's DynamoDB and SQS clients and pino. The slack
 * function builds its own lighter one (lambda-slack.ts).
 */
export interface SdkTransport {
  dynamo: DynamoDBDocumentClient;
  queue: WorkQueue;
  /** Brings a failed job back after a short delay instead of the queue's visibility timeout (worker-batch.ts). */
  jobRetry: JobRetry;
}

export type Runtime = RuntimeOf<SdkTransport>;

export const SDK_PARTS: RuntimeParts<SdkTransport> = {
  logger: (level) => createLogger({ level }),
  transport: ({ queueUrl }) => {
    // Each attempt bounded, as IAM's and SSM's are (aws-clients.ts): a hung connection is retried.
    const requestHandler = limitedRequestHandler();
    const sqs = new SQSClient({ requestHandler });
    return {
      dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler })),
      queue: createSqsWorkQueue(sqs, queueUrl),
      jobRetry: createSqsJobRetry(sqs, queueUrl),
    };
  },
};

/** The SDK runtime's container (lambda-container.ts `containerWith`): `prepare` runs while the secrets' read travels. */
export function containerOf<W, P>(
  wire: (runtime: Runtime, secrets: SlackSecrets, prepared: P) => Promise<W>,
  prepare: (runtime: Runtime) => P,
): () => Promise<W> {
  return containerWith(SDK_PARTS, wire, prepare);
}
