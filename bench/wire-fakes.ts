import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../src/adapters/dynamodb/local';
import { FakeSlackApi } from '../src/adapters/sandbox/fake-slack-api';
import type { CallLog } from './instrument';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A latency a running measurement may change (the digest seeds at 0, then reads). */
export interface Latency {
  ms: number;
}

/**
 * dynalite (DynamoDB in Node, FACTS.md) whose every request is logged by operation (`PutItem`,
 * `Query`, `Scan`, …) and answered `latency.ms` later: what DynamoDB sees, whatever the store does.
 */
export async function startTimedDynalite(opts: { log: CallLog; latency: Latency }): Promise<{
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}> {
  const dynalite = require('dynalite') as (o: Record<string, number>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const handlers = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    opts.log.record('DynamoDB', operation);
    const answer = () => {
      for (const handle of handlers) handle.call(server, req, res);
    };
    if (opts.latency.ms > 0) setTimeout(answer, opts.latency.ms);
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'ap-northeast-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const tableName = `keyturn-bench-${randomUUID().slice(0, 8)}`;
  const saved = opts.latency.ms;
  opts.latency.ms = 0;
  await ensureTable(client, tableName);
  opts.latency.ms = saved;
  return {
    endpoint,
    tableName,
    client,
    close: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The in-memory Slack Web API (src/adapters/sandbox/fake-slack-api.ts) on its own port, every call
 * logged by method and answered `latency.ms` later, for `SLACK_API_URL`.
 */
export async function startTimedSlack(opts: {
  log: CallLog;
  latency: Latency;
  userGroups?: Record<string, readonly string[]>;
}): Promise<{ api: FakeSlackApi; url: string; close(): Promise<void> }> {
  const api = new FakeSlackApi({ userGroups: opts.userGroups ?? {} });
  const server = createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    opts.log.record('Slack', method);
    const answer = () => void api.handle(req, res, method);
    if (opts.latency.ms > 0) setTimeout(answer, opts.latency.ms);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    api,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
