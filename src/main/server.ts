import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { createIamAccessControl } from '../adapters/aws/iam-access-control';
import { createSsmFleet } from '../adapters/aws/ssm-fleet';
import { createDynamoGrantStore } from '../adapters/dynamodb/grant-store';
import { ensureTable, startDynalite } from '../adapters/dynamodb/local';
import { newGrantId } from '../adapters/grant-ids';
import { createLogger } from '../adapters/logging/pino-logger';
import { InProcessQueue } from '../adapters/memory/in-process-queue';
import { FakeSlackApi } from '../adapters/sandbox/fake-slack-api';
import { SimulatedAccount } from '../adapters/sandbox/simulated-account';
import { registerListeners } from '../adapters/slack/listeners';
import { createSlackChat } from '../adapters/slack/slack-chat';
import { systemClock } from '../adapters/system-clock';
import type { Deps } from '../app/deps';
import { handleJob } from '../app/handle-job';
import { sweep } from '../app/sweep';
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import type { AccessControl } from '../ports/access-control';
import type { Clock } from '../ports/clock';
import type { Fleet } from '../ports/fleet';
import type { Logger } from '../ports/logger';
import { buildAwsClients } from './aws-clients';

type Env = Record<string, string | undefined>;

export interface StartOptions {
  env?: Env;
  /** Overrides `PORT`; 0 picks a free port (tests). */
  port?: number;
  config?: Config;
  clock?: Clock;
  logger?: Logger;
  readiness?: Deps['readiness'];
  /** How often the sweeper runs; 0 turns the timer off (tests call `sweep` themselves). Default 60 s. */
  sweepEveryMs?: number;
}

export interface RunningKeyturn {
  mode: 'sandbox' | 'local';
  url: string;
  deps: Deps;
  queue: InProcessQueue;
  /** Sandbox only: the simulated AWS account and the in-memory Slack. */
  account?: SimulatedAccount;
  slack?: FakeSlackApi;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly code = 'STARTUP_REFUSED';
}

/**
 * The local composition root: one HTTP server for `POST /slack/events` and `GET /healthz`
 * (DESIGN.md contract), with the worker running in-process. With no Slack token it is the
 * sandbox: a simulated AWS account and an in-memory Slack, so it starts on a fresh machine.
 */
export async function startKeyturn(opts: StartOptions = {}): Promise<RunningKeyturn> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger({ level: env.LOG_LEVEL ?? 'info' });
  const config = opts.config ?? loadConfig({ env, cwd: process.cwd(), log: (msg) => logger.info({}, msg) });
  const clock = opts.clock ?? systemClock;
  const mode = env.SLACK_BOT_TOKEN ? 'local' : 'sandbox';
  if (mode === 'local' && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new StartupError(
      'SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is',
    );
  }

  const routes: { slack?: (req: IncomingMessage, res: ServerResponse) => void; sandboxSlack?: FakeSlackApi } =
    {};
  const server = createServer((req, res) => route(req, res, routes, mode));
  const port = opts.port ?? Number(env.PORT ?? 3000);
  await listen(server, port, env.HOST ?? '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closers: (() => Promise<void>)[] = [() => closeServer(server)];

  try {
    const storage = await openStorage(env, config, logger);
    closers.push(storage.close);

    let access: AccessControl;
    let fleet: Fleet;
    let account: SimulatedAccount | undefined;
    if (mode === 'sandbox') {
      account = new SimulatedAccount({ ...config.aws, nodes: [...config.sandbox.fleet], clock });
      access = account;
      fleet = account;
    } else {
      const aws = buildAwsClients({ region: config.aws.region });
      access = createIamAccessControl(aws.iam, { accountId: config.aws.accountId });
      fleet = createSsmFleet(aws.ssm);
    }

    let slackApiUrl = env.SLACK_API_URL;
    if (mode === 'sandbox' && !slackApiUrl) {
      routes.sandboxSlack = new FakeSlackApi({ userGroups: config.sandbox.userGroups });
      slackApiUrl = `${url}/sandbox/slack/api/`;
    }
    // The sandbox signs its own requests; a random secret per start keeps anything else from posting.
    const signingSecret = env.SLACK_SIGNING_SECRET ?? randomBytes(32).toString('hex');

    const queue = new InProcessQueue({ logger });
    closers.push(async () => queue.stop());

    const receiver =
      mode === 'local' && env.SLACK_APP_TOKEN
        ? undefined
        : new HTTPReceiver({
            signingSecret,
            endpoints: '/slack/events',
            logLevel: LogLevel.WARN,
            // Answer after the listener finishes, as AwsLambdaReceiver does on Lambda (FACTS.md), so the
            // local server behaves like production: a listener's write and enqueue happen before the reply.
            processBeforeResponse: true,
          });
    const app = new App({
      token: env.SLACK_BOT_TOKEN ?? 'xoxb-sandbox',
      ...(receiver ? { receiver } : { socketMode: true, appToken: env.SLACK_APP_TOKEN, signingSecret }),
      logLevel: LogLevel.WARN,
      // Known bot ids spare Bolt an auth.test call (FACTS.md: one per request without them).
      ...(env.SLACK_BOT_ID && env.SLACK_BOT_USER_ID
        ? { botId: env.SLACK_BOT_ID, botUserId: env.SLACK_BOT_USER_ID }
        : {}),
      ...(slackApiUrl ? { clientOptions: { slackApiUrl } } : {}),
    });
    const deps: Deps = {
      config,
      grants: storage.grants,
      queue,
      access,
      fleet,
      chat: createSlackChat({ client: app.client, clock }),
      clock,
      logger,
      newId: () => newGrantId(),
      ...(opts.readiness ? { readiness: opts.readiness } : {}),
    };
    registerListeners(app, deps);
    queue.start((job) => handleJob(deps, job));
    const sweepEveryMs = opts.sweepEveryMs ?? 60_000;
    if (sweepEveryMs > 0) closers.push(startSweeper(deps, sweepEveryMs));
    if (receiver) routes.slack = receiver.requestListener;
    else {
      await app.start();
      closers.push(() => app.stop().then(() => undefined));
    }

    logger.info(
      {
        mode,
        url,
        account: config.aws.accountId,
        region: config.aws.region,
        table: storage.description,
        slackApiUrl,
      },
      `keyturn ${mode} mode listening on ${url}`,
    );
    return {
      mode,
      url,
      deps,
      queue,
      ...(account ? { account } : {}),
      ...(routes.sandboxSlack ? { slack: routes.sandboxSlack } : {}),
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** Lambda runs the sweeper on a schedule; locally a timer does, never two at once in this process. */
function startSweeper(deps: Deps, everyMs: number): () => Promise<void> {
  let runs = 0;
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    runs++;
    running = sweep(deps, { reconcile: runs % RECONCILE_EVERY === 1 })
      .catch((error: unknown) => deps.logger.error({ err: (error as Error).message }, 'sweep failed'))
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Listing every /keyturn/ policy costs IAM calls: once every ten sweeps is enough to catch orphans. */
const RECONCILE_EVERY = 10;

async function openStorage(env: Env, config: Config, logger: Logger) {
  const region = env.AWS_REGION ?? config.aws.region;
  if (env.KEYTURN_TABLE) {
    const client = new DynamoDBClient({ region });
    return {
      grants: createDynamoGrantStore({
        documentClient: DynamoDBDocumentClient.from(client),
        tableName: env.KEYTURN_TABLE,
      }),
      description: `DynamoDB table ${env.KEYTURN_TABLE}`,
      close: async () => client.destroy(),
    };
  }
  const local = await startDynalite();
  const client = new DynamoDBClient({
    region,
    endpoint: local.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, 'keyturn');
  logger.info(
    { endpoint: local.endpoint },
    'using embedded DynamoDB (dynalite); state lasts until the process stops',
  );
  return {
    grants: createDynamoGrantStore({
      documentClient: DynamoDBDocumentClient.from(client),
      tableName: 'keyturn',
    }),
    description: 'embedded dynalite',
    close: async () => {
      client.destroy();
      await local.close();
    },
  };
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  routes: { slack?: (req: IncomingMessage, res: ServerResponse) => void; sandboxSlack?: FakeSlackApi },
  mode: string,
): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, mode }));
    return;
  }
  if (path === '/slack/events' && routes.slack) {
    routes.slack(req, res);
    return;
  }
  const sandboxApi = '/sandbox/slack/api/';
  if (req.method === 'POST' && path.startsWith(sandboxApi) && routes.sandboxSlack) {
    routes.sandboxSlack.handle(req, res, path.slice(sandboxApi.length)).catch(() => {
      res.writeHead(500);
      res.end();
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: false, error: 'not found' }));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.reverse()) {
    await close().catch(() => undefined);
  }
}

if (require.main === module) {
  startKeyturn().catch((error: unknown) => {
    console.error(error instanceof Error ? `keyturn did not start: ${error.message}` : error);
    process.exit(1);
  });
}
