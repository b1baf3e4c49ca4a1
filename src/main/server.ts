import { botIdentity } from './bot-identity';
import { SLACK_RETRIES } from './slack-retries';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { newGrantId } from '../adapters/grant-ids';
import { createLogger } from '../adapters/logging/pino-logger';
import { InProcessQueue } from '../adapters/memory/in-process-queue';
import { FakeSlackApi } from '../adapters/sandbox/fake-slack-api';
import { SandboxClock } from '../adapters/sandbox/sandbox-clock';
import { sandboxWorkspace } from '../adapters/sandbox/sandbox-workspace';
import type { SimulatedAccount } from '../adapters/sandbox/simulated-account';
import { SimulatedOrganisation } from '../adapters/sandbox/simulated-places';
import { registerListeners } from '../adapters/slack/listeners';
import { createSlackChat } from '../adapters/slack/slack-chat';
import { systemClock } from '../adapters/system-clock';
import type { Deps } from '../app/deps';
import { handleJob } from '../app/handle-job';
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { accountLabel } from '../domain/place';
import type { AwsPlaces } from '../ports/aws-places';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { grantorCredentials, realAwsPlaces } from './aws-places';
import { startDigestSchedule } from './digest-schedule';
import { localModeProblems } from './local-mode';
import { sandboxEnvProblems } from './sandbox-env';
import { runPorts } from './run-ports';
import { mountSandboxPage } from './sandbox-mode';
import { guardRequests } from './http-guard';
import { claimStateDir, secureStateDir } from './state-dir';
import { bindHost } from './bind-host';
import { sessionPorts } from './session-ports';
import { closeAll, closeServer, listen, ownUrl, type Routes, route } from './http-routes';
import { openStorage } from './local-storage';
import { StartupError } from './startup-error';
import { startSweeper } from './sweeper-timer';

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
  /** Post the daily digest on its cron (`digest.at` in `digest.timezone`). Default: when the sweeper timer runs. */
  digest?: boolean;
  /**
   * Where state survives a restart (`npm start` uses `.keyturn/`): dynalite's tables, and in sandbox mode
   * the page's Slack messages, the simulated account and the clock. Unset keeps everything in memory.
   */
  stateDir?: string;
  /** Deletes `stateDir` first: `npm start -- --reset`. */
  reset?: boolean;
  /**
   * A DynamoDB table to use instead of KEYTURN_TABLE or dynalite, whatever the mode: `npm run bench`
   * points the sandbox at its own timed dynalite. Never read from the environment, so an operator's
   * KEYTURN_TABLE cannot put the sandbox's simulated grants into a real table.
   */
  dynamodb?: { endpoint: string; tableName: string };
  /**
   * Wraps the ports before anything uses them: `npm run bench` counts and delays every call (bench/).
   * Absent, the ports are used as built.
   */
  instrument?: (deps: Deps) => Deps;
}

export interface RunningKeyturn {
  mode: 'sandbox' | 'local';
  url: string;
  deps: Deps;
  queue: InProcessQueue;
  /** Sandbox only: the simulated AWS organisation, its home account (Keyturn's own), and the in-memory Slack. */
  organisation?: SimulatedOrganisation;
  account?: SimulatedAccount;
  slack?: FakeSlackApi;
  close(): Promise<void>;
}

export { StartupError };

/**
 * The local composition root: one HTTP server for `POST /slack/events` and `GET /healthz`
 * (DESIGN.md contract), with the worker running in-process. With no Slack token it is the
 * sandbox: a simulated AWS account and an in-memory Slack, so it starts on a fresh machine.
 */
export async function startKeyturn(opts: StartOptions = {}): Promise<RunningKeyturn> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger({ level: env.LOG_LEVEL ?? 'info' });
  const config = opts.config ?? loadConfig({ env, cwd: process.cwd(), log: (msg) => logger.info({}, msg) });
  const mode = env.SLACK_BOT_TOKEN ? 'local' : 'sandbox';
  // The sandbox page's +10 min / +1 h buttons move this clock; tests that inject their own keep theirs.
  const sandboxClock = mode === 'sandbox' && !opts.clock ? new SandboxClock() : undefined;
  const clock = opts.clock ?? sandboxClock ?? systemClock;
  if (mode === 'local' && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new StartupError(
      'SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is',
    );
  }
  const envProblems = mode === 'sandbox' ? sandboxEnvProblems(env) : [];
  if (envProblems.length > 0) {
    throw new StartupError(
      `no SLACK_BOT_TOKEN is set, so Keyturn would start in sandbox mode (simulated AWS and Slack), but:\n  - ${envProblems.join('\n  - ')}`,
    );
  }
  const problems = mode === 'local' ? localModeProblems(config) : [];
  if (problems.length > 0) {
    throw new StartupError(
      `SLACK_BOT_TOKEN is set, so Keyturn would serve a real workspace, but the config is not ready for one:\n  - ${problems.join('\n  - ')}`,
    );
  }
  const bind = bindHost(env);
  if (!bind.ok) throw new StartupError(bind.reason);
  const claim = opts.stateDir ? await claimStateDir(opts.stateDir) : undefined;
  if (claim && !claim.ok) throw new StartupError(claim.reason);
  const release = async () => {
    if (claim?.ok) await claim.release();
  };
  if (opts.reset && opts.stateDir) {
    rmSync(path.join(opts.stateDir, 'dynalite'), { recursive: true, force: true });
    rmSync(path.join(opts.stateDir, 'sandbox.json'), { force: true });
  }

  const routes: Routes = {};
  const server = createServer(guardRequests(logger, (req, res) => route(req, res, routes, mode)));
  // CONNECT never reaches the request handler; without this Node just drops the socket. Nothing here tunnels.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
  });
  const port = opts.port ?? Number(env.PORT ?? 3000);
  await listen(server, port, bind.host).catch(async (error: unknown) => {
    await release();
    throw error;
  });
  const url = ownUrl(server.address() as AddressInfo);
  const closers: (() => Promise<void>)[] = [release, () => closeServer(server)];

  try {
    const storage = await openStorage(env, config, logger, opts.stateDir, opts.dynamodb);
    closers.push(storage.close);
    // dynalite has just created its files with the process umask; they hold grants and reasons.
    if (opts.stateDir) secureStateDir(opts.stateDir);

    let aws: AwsPlaces;
    let organisation: SimulatedOrganisation | undefined;
    if (mode === 'sandbox') {
      // Every declared account, each with the deploy's boundary and trust policies evaluated: the sandbox
      // shows what the access roles allow, account by account, region by region.
      organisation = new SimulatedOrganisation({ config, clock });
      aws = organisation;
    } else {
      // Local mode is also the worker: each account's quotas are read as its adapter is built, off the
      // approval path (issue 13); Keyturn's own account's now.
      aws = realAwsPlaces({ config, credentialsFor: grantorCredentials(config), readQuotasAtStart: true });
      aws.access(config.aws.accountId);
    }

    // The sandbox's Slack takes Web API calls only with this per-process token: a fixed one would let
    // anything that can reach the port post as the bot.
    const sandboxBotToken = `xoxb-sandbox-${randomBytes(24).toString('hex')}`;
    let slackApiUrl = env.SLACK_API_URL;
    if (mode === 'sandbox' && !slackApiUrl) {
      const users = Object.fromEntries(sandboxWorkspace(config).people.map((p) => [p.id, { name: p.name }]));
      routes.sandboxSlack = new FakeSlackApi({
        userGroups: config.sandbox.userGroups,
        clock,
        users,
        token: sandboxBotToken,
      });
      slackApiUrl = `${url}/sandbox/slack/api/`;
    }
    // The sandbox signs its own requests; a random secret per start keeps anything else from posting.
    const signingSecret = env.SLACK_SIGNING_SECRET ?? randomBytes(32).toString('hex');

    const queue = new InProcessQueue({ logger });
    // Closed before storage and Slack (closers run in reverse), so no job outlives what it writes to.
    closers.push(() => queue.close());

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
    const token = env.SLACK_BOT_TOKEN ?? sandboxBotToken;
    const app = new App({
      token,
      ...(receiver ? { receiver } : { socketMode: true, appToken: env.SLACK_APP_TOKEN, signingSecret }),
      logLevel: LogLevel.WARN,
      // Known bot ids spare Bolt its own auth.test (FACTS.md), whose failure it would leave unhandled.
      ...(await botIdentity({ token, env, ...(slackApiUrl ? { slackApiUrl } : {}) })),
      clientOptions: { ...(slackApiUrl ? { slackApiUrl } : {}), retryConfig: SLACK_RETRIES },
    });
    const built: Deps = {
      config,
      grants: storage.grants,
      queue,
      aws,
      chat: createSlackChat({ client: app.client, clock, served: config.aws }),
      clock,
      logger,
      newId: () => newGrantId(),
      ...(opts.readiness ? { readiness: opts.readiness } : {}),
      ...sessionPorts({
        ...storage.table,
        grants: storage.grants,
        client: app.client,
        home: config.aws,
        served: config.aws,
      }),
      ...runPorts({ ...storage.table, client: app.client, served: config.aws }),
    };
    const deps = opts.instrument ? opts.instrument(built) : built;
    registerListeners(app, deps);
    queue.start((job) => handleJob(deps, job));
    if (routes.sandboxSlack && organisation && sandboxClock) {
      const page = mountSandboxPage({
        deps,
        slack: routes.sandboxSlack,
        aws: organisation,
        clock: sandboxClock,
        url: () => url,
        signingSecret,
        pageToken: randomBytes(32).toString('base64url'),
        idle: () => queue.idle(),
        resetStorage: storage.reset,
        ...(opts.stateDir ? { snapshotFile: `${opts.stateDir}/sandbox.json` } : {}),
      });
      routes.sandboxPage = page.handle;
      closers.push(page.close);
    }
    const sweepEveryMs = opts.sweepEveryMs ?? 60_000;
    if (sweepEveryMs > 0) closers.push(startSweeper(deps, sweepEveryMs));
    if (opts.digest ?? sweepEveryMs > 0) closers.push(startDigestSchedule(deps).stop);
    if (receiver) routes.slack = receiver.requestListener;
    else {
      await app.start();
      closers.push(() => app.stop().then(() => undefined));
    }

    routes.ready = true;
    const region = env.AWS_REGION ?? config.aws.region;
    const slackVia =
      mode === 'sandbox' ? 'sandbox Slack' : receiver ? 'Slack over HTTP' : 'Slack Socket Mode';
    // The member accounts it serves, each with its regions: `factory (444455556666) in eu-central-1`.
    const members = Object.values(config.aws.accounts)
      .filter((a) => a.accountId !== config.aws.accountId)
      .map((a) => `${accountLabel(a)} in ${a.regions.join(', ')}`);
    logger.info(
      {
        mode,
        url,
        account: config.aws.accountId,
        region,
        table: storage.description,
        slackApiUrl,
      },
      `keyturn ${mode} mode: ${slackVia}, AWS account ${config.aws.accountId}${mode === 'sandbox' ? ' (simulated)' : ''} in ${region}${members.length > 0 ? ` and ${members.join(', ')}` : ''}, ${storage.description}; ${routes.sandboxPage ? `open ${url.replace('127.0.0.1', 'localhost')}` : `listening on ${url}`}`,
    );
    return {
      mode,
      url,
      deps,
      queue,
      ...(organisation ? { organisation, account: organisation.home } : {}),
      ...(routes.sandboxSlack ? { slack: routes.sandboxSlack } : {}),
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

if (require.main === module) {
  // Everything this process creates from now on (dynalite's files as they roll over, the sandbox's
  // snapshot) is its owner's alone: .keyturn/ holds grants, reasons and command output.
  process.umask(0o077);
  startKeyturn({ stateDir: '.keyturn', reset: process.argv.includes('--reset') }).then(
    (running) => {
      // Ctrl-C closes cleanly: the sandbox saves its state and dynalite closes its files. The signal
      // can arrive twice (from the terminal and relayed by tsx); the second must not cut the close short.
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void running.close().finally(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? `keyturn did not start: ${error.message}` : error);
      process.exit(1);
    },
  );
}
