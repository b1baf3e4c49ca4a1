import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { WebClient } from '@slack/web-api';
import { createSsmCommandRunner } from '../adapters/aws/ssm-command-runner';
import { createDynamoCommandRunStore } from '../adapters/dynamodb/command-run-store';
import { createSlackRunChat } from '../adapters/slack/slack-run-chat';
import type { Deps } from '../app/deps';
import type { CommandRunner } from '../ports/command-runner';
import { awsClientConfig } from './aws-clients';

/**
 * Run Command (issue 4) on Keyturn's table and Slack client: the same wiring for the local server and
 * Lambda. The command runner is passed in: the sandbox's simulated one, or `ssmCommandRunner`.
 */
export function runPorts(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  client: WebClient;
  commands: CommandRunner;
}): Pick<Deps, 'commands' | 'runs' | 'runChat'> {
  return {
    commands: opts.commands,
    runs: createDynamoCommandRunStore({ documentClient: opts.documentClient, tableName: opts.tableName }),
    runChat: createSlackRunChat({ client: opts.client }),
  };
}

/**
 * Run Command on real SSM. Reads go through the shared client with its retries; SendCommand goes
 * through its own client with a single attempt, because SendCommand takes no idempotency token and an
 * SDK retry after a lost answer would run the snippet twice (src/adapters/aws/ssm-command-runner.ts).
 */
export function ssmCommandRunner(ssm: SSMClient, region: string): CommandRunner {
  const sendClient = new SSMClient({ ...awsClientConfig({ region }), maxAttempts: 1 });
  return createSsmCommandRunner(ssm, { sendClient });
}
