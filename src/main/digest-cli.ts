import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WebClient } from '@slack/web-api';
import { createDynamoCommandRunStore } from '../adapters/dynamodb/command-run-store';
import { createDynamoDigestReader } from '../adapters/dynamodb/digest-reader';
import { createDynamoGrantStore } from '../adapters/dynamodb/grant-store';
import { createSlackSessionChat } from '../adapters/slack/slack-session-chat';
import { buildDigest, type DigestDeps } from '../app/post-digest';
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { isIsoDate } from '../domain/digest';
import { digestText } from '../domain/digest-text';
import type { Logger } from '../ports/logger';
import { limitedRequestHandler } from './aws-clients';

export interface DigestCliIo {
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => Date;
  out: (s: string) => void;
  err: (s: string) => void;
  /** Builds what the digest reads and posts with; tests pass fakes. Default: KEYTURN_TABLE and the Slack token. */
  openDigest?: (config: Config, io: DigestCliIo, opts: { post: boolean }) => Promise<DigestRuntime>;
}

export interface DigestRuntime {
  deps: DigestDeps;
  close(): Promise<void>;
}

export class DigestUsageError extends Error {}

/**
 * `keyturn digest [--date YYYY-MM-DD] [--post]`: prints the digest of a local day (default: yesterday in
 * `digest.timezone`) as text on stdout, and with --post also sends it to the audit channel.
 */
export async function digestCommand(args: string[], io: DigestCliIo): Promise<number> {
  let values: { date?: string; post?: boolean };
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: false,
      strict: true,
      options: { date: { type: 'string' }, post: { type: 'boolean' } },
    });
    values = parsed.values;
  } catch (error) {
    throw new DigestUsageError((error as Error).message);
  }
  if (values.date !== undefined && !isIsoDate(values.date))
    throw new DigestUsageError(`--date: '${values.date}' is not a date like 2026-11-23.`);

  const config = loadConfig({ env: io.env, cwd: io.cwd, log: io.err });
  const post = values.post === true;
  const runtime = await (io.openDigest ?? openFromEnvironment)(config, io, { post });
  try {
    const view = await buildDigest(runtime.deps, values.date === undefined ? {} : { date: values.date });
    io.out(digestText(view));
    if (post) {
      await runtime.deps.sessionChat.postDigest(config.slack.auditChannel, view);
      io.err(`Posted the digest for ${view.day.date} to ${config.slack.auditChannel}.`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

/** Everything goes to stderr: stdout carries the digest only. */
function stderrLogger(err: (s: string) => void): Logger {
  const line = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    err(`${level}: ${msg}${Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''}`);
  return { debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };
}

/** The real table (KEYTURN_TABLE; the embedded dynalite lives only inside a running server) and Slack. */
async function openFromEnvironment(
  config: Config,
  io: DigestCliIo,
  opts: { post: boolean },
): Promise<DigestRuntime> {
  const tableName = io.env.KEYTURN_TABLE;
  if (!tableName)
    throw new Error(
      'the digest reads the DynamoDB table named by KEYTURN_TABLE, which is not set (a sandbox keeps its data inside the running server, which posts the digest itself at digest.at)',
    );
  if (opts.post && !io.env.SLACK_BOT_TOKEN) throw new Error('--post needs SLACK_BOT_TOKEN');
  const client = new DynamoDBClient({
    region: io.env.AWS_REGION ?? config.aws.region,
    requestHandler: limitedRequestHandler(),
  });
  const documentClient = DynamoDBDocumentClient.from(client);
  const grants = createDynamoGrantStore({ documentClient, tableName });
  const slack = new WebClient(io.env.SLACK_BOT_TOKEN, {
    ...(io.env.SLACK_API_URL ? { slackApiUrl: io.env.SLACK_API_URL } : {}),
  });
  return {
    deps: {
      config,
      clock: { now: io.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
      grants,
      digestData: createDynamoDigestReader({ documentClient, tableName }),
      runs: createDynamoCommandRunStore({ documentClient, tableName }),
      sessionChat: createSlackSessionChat({ client: slack, served: config.aws }),
      logger: stderrLogger(io.err),
    },
    close: async () => client.destroy(),
  };
}
