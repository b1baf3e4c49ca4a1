import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import type { WebClient } from '@slack/web-api';
import { createSsmCommandRunner } from '../adapters/aws/ssm-command-runner';
import { createDynamoCommandRunStore } from '../adapters/dynamodb/command-run-store';
import { createSlackRunChat } from '../adapters/slack/slack-run-chat';
import type { Deps } from '../app/deps';
import type { ServedPlaces } from '../domain/place';
import type { CommandRunner } from '../ports/command-runner';

/**
 * Run Command (issue 4) on Keyturn's table and Slack client: the same wiring for the local server and
 * Lambda. The command runner itself is per account and region (src/main/aws-places.ts).
 */
export function runPorts(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  client: WebClient;
  served: ServedPlaces;
}): Pick<Deps, 'runs' | 'runChat'> {
  return {
    runs: createDynamoCommandRunStore({ documentClient: opts.documentClient, tableName: opts.tableName }),
    runChat: createSlackRunChat({ client: opts.client, served: opts.served }),
  };
}

/**
 * Run Command on real SSM. Reads go through the shared client with its retries; SendCommand goes
 * through its own client with a single attempt, because SendCommand takes no idempotency token and an
 * SDK retry after a lost answer would run the snippet twice (src/adapters/aws/ssm-command-runner.ts).
 */
export function ssmCommandRunner(ssm: SSMClient, config: SSMClientConfig): CommandRunner {
  const sendClient = new SSMClient({ ...config, maxAttempts: 1 });
  return createSsmCommandRunner(ssm, { sendClient });
}
