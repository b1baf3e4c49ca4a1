import { performance } from 'node:perf_hooks';
import { buttonClick, postSigned, slashCommand } from '../src/adapters/sandbox/slack-requests';
import { ACTION_APPROVE } from '../src/adapters/slack/action-ids';
import { startKeyturn } from '../src/main/server';
import type { Job, WorkQueue } from '../src/ports/work-queue';
import { silentLogger } from '../test/support/fakes';
import { awsLatency, benchConfig, benchUser, type LatencyProfile, ZERO_LATENCY } from './bench-config';
import { childMain } from './child-process';
import { CallLog, instrumentPort, realSleep, type Service, SERVICES } from './instrument';
import { mean, percentile, round } from './stats';
import { startTimedDynalite, startTimedSlack } from './wire-fakes';
import type { Place } from '../src/domain/place';

/**
 * Items 1 and 2: how fast Keyturn acks `/access` and an Approve click, through its real HTTP server
 * (Bolt's HTTPReceiver with processBeforeResponse, so the reply waits for the listener as
 * AwsLambdaReceiver's does on Lambda), with signed requests, one at a time as one Lambda container
 * takes them. Every outbound call made between sending a request and reading its reply is counted:
 * IAM and SSM at the port, Slack and DynamoDB on the wire, SQS at the queue port.
 */

const SIGNING_SECRET = 'bench-signing-secret';
const PROFILES: Record<string, LatencyProfile> = {
  zero: ZERO_LATENCY,
  iam300: awsLatency(300),
  iam3000: awsLatency(3_000),
};

export interface RequestStats {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /**
   * p99 of the odd-numbered requests against the even-numbered ones, in %: how much p99 moves between
   * two samples of the very same thing on this machine (the noise floor for item 2's ±10%).
   */
  splitHalfP99DiffPct: number;
  /** HTTP statuses of the replies; every one should be 200. */
  statuses: Record<string, number>;
  /** Requests that did what they should (`/access`: a grant id in the reply; Approve: an apply-grant job queued). */
  succeeded: number;
  /** Outbound calls made before the reply, per request: the most any request made, and the mean. */
  callsBeforeResponse: { max: Record<Service, number>; mean: Record<Service, number> };
  /** Every call made before the replies, by operation, summed over the measured requests. */
  operations: Record<string, number>;
}

export interface AckResult {
  profile: string;
  latency: LatencyProfile;
  warmup: number;
  access: RequestStats;
  approve: RequestStats;
  wallSeconds: number;
}

/** Stands in for SQS: on Lambda the worker is another function, so queued jobs are recorded, not run. */
class HeldQueue implements WorkQueue {
  readonly jobs: Job[] = [];
  constructor(
    private readonly log: CallLog,
    private readonly latencyMs: number,
  ) {}
  async enqueue(job: Job): Promise<void> {
    this.log.record('SQS', 'SendMessage');
    if (this.latencyMs > 0) await realSleep(this.latencyMs);
    this.jobs.push(job);
  }
}

export async function measureAck(profileName: string, requests: number, warmup: number): Promise<AckResult> {
  const latency = PROFILES[profileName];
  if (!latency) throw new Error(`unknown profile ${profileName}; one of ${Object.keys(PROFILES).join(', ')}`);
  const started = performance.now();
  const log = new CallLog();
  const dynamo = await startTimedDynalite({ log, latency: { ms: latency.dynamodb } });
  const slack = await startTimedSlack({ log, latency: { ms: latency.slack } });
  // The sandbox refuses KEYTURN_TABLE from the environment (it would write into a real table); the
  // bench hands it its timed dynalite directly.
  const queue = new HeldQueue(log, latency.sqs);
  const people = requests + warmup;
  const keyturn = await startKeyturn({
    env: { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.url },
    dynamodb: { endpoint: dynamo.endpoint, tableName: dynamo.tableName },
    port: 0,
    config: benchConfig({ people }),
    logger: silentLogger,
    sweepEveryMs: 0,
    digest: false,
    instrument: (deps) => {
      const port = <T extends object>(p: T, service: Service, ms: number) =>
        instrumentPort(p, { service, log, latencyMs: ms, sleep: realSleep });
      return {
        ...deps,
        aws: {
          simulated: deps.aws.simulated,
          access: (accountId: string) => port(deps.aws.access(accountId), 'IAM', latency.iam),
          fleet: (place: Place) => port(deps.aws.fleet(place), 'SSM', latency.ssm),
          commands: (place: Place) => port(deps.aws.commands(place), 'SSM', latency.ssm),
        },
        queue,
      };
    },
  });

  try {
    const send = (body: string) => postSigned(keyturn.url, body, { secret: SIGNING_SECRET });
    const grantIds: string[] = [];
    const access = await measureRequests(log, people, warmup, async (n) => {
      const res = await send(slashCommand(benchUser(n), 'prod-raspi 1h bench: replace sensor on line 3'));
      const id = /Request `([a-z0-9]+)`/.exec(res.status === 200 ? res.body : '')?.[1];
      if (id) grantIds[n] = id;
      return { status: res.status, ok: id !== undefined };
    });
    const applyJobs = () => queue.jobs.filter((j) => j.kind === 'apply-grant').length;
    const approve = await measureRequests(log, people, warmup, async (n) => {
      const before = applyJobs();
      const card = { channel: 'C0APPROVALS', ts: `1700000000.${String(n).padStart(6, '0')}` };
      const res = await send(
        buttonClick({ user: 'U0CAROL', actionId: ACTION_APPROVE, value: grantIds[n] ?? 'missing', card }),
      );
      return { status: res.status, ok: applyJobs() === before + 1 };
    });
    return {
      profile: profileName,
      latency,
      warmup,
      access,
      approve,
      wallSeconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await keyturn.close();
    await slack.close();
    await dynamo.close();
  }
}

/** Sends requests 1..total one at a time; the first `warmup` are not measured (JIT, connection set-up, auth.test). */
async function measureRequests(
  log: CallLog,
  total: number,
  warmup: number,
  request: (n: number) => Promise<{ status: number; ok: boolean }>,
): Promise<RequestStats> {
  const times: number[] = [];
  const perRequest: Record<Service, number>[] = [];
  const statuses: Record<string, number> = {};
  let succeeded = 0;
  let firstMeasured = log.mark();
  for (let n = 1; n <= total; n++) {
    if (n === warmup + 1) firstMeasured = log.mark();
    const mark = log.mark();
    const t0 = performance.now();
    const { status, ok } = await request(n);
    const ms = performance.now() - t0;
    if (n <= warmup) continue;
    times.push(ms);
    perRequest.push(log.countSince(mark));
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (ok) succeeded++;
  }
  const per = (pick: (values: number[]) => number) =>
    Object.fromEntries(SERVICES.map((s) => [s, round(pick(perRequest.map((c) => c[s])), 3)])) as Record<
      Service,
      number
    >;
  return {
    requests: times.length,
    p50Ms: round(percentile(times, 50)),
    p99Ms: round(percentile(times, 99)),
    maxMs: round(Math.max(...times)),
    splitHalfP99DiffPct: round(
      (percentile(
        times.filter((_, i) => i % 2 === 1),
        99,
      ) /
        percentile(
          times.filter((_, i) => i % 2 === 0),
          99,
        ) -
        1) *
        100,
      1,
    ),
    meanMs: round(mean(times)),
    statuses,
    succeeded,
    callsBeforeResponse: { max: per((v) => Math.max(...v)), mean: per(mean) },
    operations: log.operationsSince(firstMeasured),
  };
}

if (require.main === module) {
  childMain(([profile = 'zero', requests = '2000', warmup = '100']) =>
    measureAck(profile, Number(requests), Number(warmup)),
  );
}
