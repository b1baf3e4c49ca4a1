import { createIamAccessControl } from '../src/adapters/aws/iam-access-control';
import { createSsmFleet } from '../src/adapters/aws/ssm-fleet';
import { createSlackChat } from '../src/adapters/slack/slack-chat';
import type { Deps } from '../src/app/deps';
import { SWEEP_CUTOFF_MS, type SweepReport, sweep } from '../src/app/sweep';
import { AccountUnreachableError } from '../src/adapters/aws/assumed-role-credentials';
import type { AwsPlaces } from '../src/ports/aws-places';
import { type Grant, toIsoSeconds } from '../src/domain/grant';
import { POLICY_PATH, policyName } from '../src/domain/policy';
import type { GrantStore } from '../src/ports/grant-store';
import {
  MemoryGrantStore,
  onePlace,
  RecordingQueue,
  sessionFakes,
  silentLogger,
} from '../test/support/fakes';
import { benchConfig, benchPrincipal, benchUser } from './bench-config';
import { childMain } from './child-process';
import { FakeIam, FakeSsm, iamClientOn, seededRandom, ssmClientOn } from './fake-aws';
import { fakeWebClient } from './fake-web-client';
import { CallLog, instrumentPort, type Service } from './instrument';
import { percentile, round } from './stats';
import { VirtualTime } from './virtual-time';

/**
 * Item 5: 1,000 active grants expiring within one minute, each holder with an open session, ended by
 * the real sweeper on the virtual clock. IAM answers after 100 ms and throttles 10% of attempts
 * (seeded), through the production SDK settings (8 attempts, standard retries: backoff happens on the
 * virtual clock too; adaptive mode's client-side rate limiter as well, when that mode is asked for); SSM answers after 200 ms, DynamoDB after 10 ms per
 * store call, Slack after 150 ms. A sweep starts every minute, as the schedule does, even while an
 * earlier one still runs (in another container). Nothing stops a sweep at Lambda's 55 s timeout here.
 */

const MINUTE = 60_000;
/** The minute the grants expire in. */
const EXPIRY_MINUTE = '2026-11-23T10:00:00Z';
const NODE = 'mi-0a1b2c3d4e5f60001';
const MAX_SWEEPS = 30;
/** The member account of the `down` variant, and the grantor role Keyturn cannot assume there. */
const DOWN_ACCOUNT = '444455556666';
const DOWN_ROLE = `arn:aws:iam::${DOWN_ACCOUNT}:role/keyturn-grantor`;

/** Every port of DOWN_ACCOUNT fails after an STS round trip (`unreachable`) or hangs (`silent`). */
function withDownAccount(
  places: AwsPlaces,
  down: 'unreachable' | 'silent' | undefined,
  calls: { count: number },
  sleep: (ms: number) => Promise<void>,
): AwsPlaces {
  if (!down) return places;
  const failing = new Proxy({} as never, {
    get: () => async () => {
      calls.count++;
      await sleep(down === 'silent' ? 10 * MINUTE : 300);
      throw new AccountUnreachableError(
        DOWN_ACCOUNT,
        DOWN_ROLE,
        down === 'silent' ? 'TimeoutError' : 'AccessDenied',
      );
    },
  });
  return {
    ...places,
    access: (id) => (id === DOWN_ACCOUNT ? failing : places.access(id)),
    fleet: (place) => (place.accountId === DOWN_ACCOUNT ? failing : places.fleet(place)),
  };
}

export interface SweeperResult {
  grants: number;
  retryMode: 'adaptive' | 'standard';
  /** Lambda containers the overlapping sweeps needed (each with its own SDK clients). */
  containers: number;
  iamLatencyMs: number;
  throttleRate: number;
  ssmLatencyMs: number;
  dynamodbLatencyMs: number;
  /** From the first sweep after the expiry minute (10:01:00) until the last grant was ended. */
  allEndedAfterMs: number;
  /** Per grant, from its own expiry until it was ended. */
  lagFromExpiryMs: { p50: number; max: number };
  sweeps: { startedAtOffsetMs: number; durationMs: number; report: SweepReport }[];
  /** Sweeps that ran past Lambda's 55 s timeout (serverless.yml): on Lambda they would have been cut off. */
  sweepsOver55s: number;
  ended: number;
  missed: { grantsNotEnded: number; policiesLeft: number; attachmentsLeft: number; sessionsOpen: number };
  twice: {
    grantsEndedTwice: number;
    policiesDeletedTwice: number;
    detachedTwice: number;
    sessionsTerminatedTwice: number;
  };
  callsPerRevoke: Record<Service, number>;
  iamThrottled: number;
  /** The `down` variant: calls made to the member account Keyturn cannot use, and its grants marked ending. */
  down?: { how: 'unreachable' | 'silent'; grants: number; calls: number; markedEnding: number };
  operations: Record<string, number>;
  realSeconds: number;
}

export async function measureSweeper(opts: {
  grants: number;
  ssmLatencyMs: number;
  throttleRate?: number;
  iamLatencyMs?: number;
  /** The SDK's retry mode for IAM: production uses 'standard' (src/main/aws-clients.ts). */
  retryMode?: 'adaptive' | 'standard';
  /**
   * A second, member account with as many grants expiring in the same minute, that Keyturn cannot
   * use: `unreachable`, its grantor role cannot be assumed (every call fails after an STS round trip
   * of 300 ms); `silent`, every call hangs (10 minutes). Each sweep is given the Lambda handler's
   * cutoff (SWEEP_CUTOFF_MS). The home account's grants must end as they do alone.
   */
  down?: 'unreachable' | 'silent';
}): Promise<SweeperResult> {
  const started = performance.now();
  const iamLatencyMs = opts.iamLatencyMs ?? 100;
  const throttleRate = opts.throttleRate ?? 0.1;
  const dynamodbLatencyMs = 10;
  const vt = new VirtualTime(EXPIRY_MINUTE);
  vt.install();
  try {
    const log = new CallLog();
    const downCalls = { count: 0 };
    /** The Lambda handler's cutoff, on the virtual clock. */
    const cutoffAfter = (ms: number) => {
      const cut = new AbortController();
      void vt.sleep(ms).then(() => cut.abort());
      return cut.signal;
    };
    const sleep = (ms: number) => vt.sleep(ms);
    const now = () => vt.now;
    const base = benchConfig({ people: opts.grants });
    const { accountId } = base.aws;
    const config: typeof base = opts.down
      ? {
          ...base,
          aws: {
            ...base.aws,
            accounts: {
              ...base.aws.accounts,
              [DOWN_ACCOUNT]: {
                accountId: DOWN_ACCOUNT,
                regions: [base.aws.region],
                grantorRoleArn: DOWN_ROLE,
              },
            },
          },
        }
      : base;
    const iam = new FakeIam({
      log,
      latencyMs: iamLatencyMs,
      sleep,
      throttleRate,
      random: seededRandom(8),
      accountId,
      now,
    });
    const nodes = config.sandbox.fleet.map((n) => ({ ...n, tags: { ...n.tags } }));
    const ssm = new FakeSsm({ log, latencyMs: opts.ssmLatencyMs, sleep, nodes, now });

    // 1,000 active grants, expiring across one minute, each with its policy attached and a session open.
    const store = new MemoryGrantStore();
    const expiryStart = Date.parse(EXPIRY_MINUTE);
    const expiries = new Map<string, number>();
    for (let i = 1; i <= opts.grants; i++) {
      const id = `sweep${i}`;
      const principal = benchPrincipal(i);
      const expiresAt = expiryStart + Math.floor(((i - 1) * MINUTE) / opts.grants / 1000) * 1000;
      const approvedAt = toIsoSeconds(new Date(expiresAt - 60 * MINUTE));
      // Attached to the person's access role (issue 12), as the worker attaches it.
      const policyArn = iam.seedAttached(`role/${principal.name}`, POLICY_PATH, policyName(id));
      expiries.set(id, expiresAt);
      const grant: Grant = {
        id,
        requester: benchUser(i),
        principal,
        target: 'prod-raspi',
        durationMinutes: 60,
        reason: 'bench',
        status: 'active',
        version: 3,
        requestedAt: approvedAt,
        approvals: [{ by: 'U0CAROL', at: approvedAt }],
        startsAt: approvedAt,
        expiresAt: toIsoSeconds(new Date(expiresAt)),
        policyArn,
        decidedBy: 'U0CAROL',
        decidedAt: approvedAt,
        card: { channel: 'C0APPROVALS', ts: `1700000000.${String(i).padStart(6, '0')}` },
        history: [
          { at: approvedAt, from: null, to: 'pending', by: benchUser(i) },
          { at: approvedAt, from: 'pending', to: 'approved', by: 'U0CAROL' },
          { at: approvedAt, from: 'approved', to: 'active', by: 'keyturn' },
        ],
      };
      store.items.set(id, grant);
      // Each holder was warned ten minutes before expiry, by an earlier sweep.
      store.effects.add(`${id}/warn:${grant.expiresAt}`);
      if (opts.down) {
        // The same person's grant in the member account, expiring at the same time.
        const inDown: Grant = { ...grant, id: `down${i}`, account: DOWN_ACCOUNT, region: config.aws.region };
        store.items.set(inDown.id, inDown);
        store.effects.add(`${inDown.id}/warn:${grant.expiresAt}`);
      }
      const sessionId = `${principal.name}-${i.toString(16).padStart(17, '0')}`;
      ssm.sessions.set(sessionId, {
        id: sessionId,
        // A session through the access role: Owner is the role session, whose name the trust policy pins.
        owner: `arn:aws:sts::${accountId}:assumed-role/${principal.name}/${principal.kind === 'access-role' ? principal.sessionName : principal.name}`,
        target: NODE,
        startedAt: expiresAt - 30 * MINUTE,
      });
    }

    // When each grant reached its final status, and how many times.
    const endedAt = new Map<string, number>();
    const endings = new Map<string, number>();
    const observed = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'save') return Reflect.get(target, property, receiver);
        return async (next: Grant, expected: number) => {
          const outcome = await target.save(next, expected);
          if (outcome === 'saved' && next.status === 'expired') {
            endings.set(next.id, (endings.get(next.id) ?? 0) + 1);
            if (!endedAt.has(next.id)) endedAt.set(next.id, vt.now);
          }
          return outcome;
        };
      },
    }) as GrantStore;
    const grants = instrumentPort(observed, {
      service: 'DynamoDB',
      log,
      latencyMs: dynamodbLatencyMs,
      sleep,
    });
    const queue = instrumentPort(new RecordingQueue(), { service: 'SQS', log, latencyMs: 0, sleep });
    const sessionPorts = sessionFakes(store);
    // A Lambda container runs one invocation at a time, and builds its SDK clients (with their retry
    // quota and adaptive rate limiter) once: an overlapping sweep runs in another container.
    const containers: { deps: Deps; busy: boolean }[] = [];
    const container = () => {
      const idle = containers.find((c) => !c.busy);
      if (idle) return idle;
      // Run Command ports are not part of a sweep: a use case reaching for one fails on undefined.
      const deps = {
        config,
        grants,
        queue,
        aws: withDownAccount(
          onePlace({
            access: createIamAccessControl(iamClientOn(iam, { retryMode: opts.retryMode }), { accountId }),
            fleet: createSsmFleet(ssmClientOn(ssm)),
          }),
          opts.down,
          downCalls,
          sleep,
        ),
        chat: createSlackChat({
          client: fakeWebClient({ log, latencyMs: 150, sleep }),
          clock: vt.clock,
          served: config.aws,
        }),
        clock: vt.clock,
        logger: silentLogger,
        newId: () => 'unused',
        ...sessionPorts,
      } as Partial<Deps> as Deps;
      containers.push({ deps, busy: false });
      return containers[containers.length - 1] as { deps: Deps; busy: boolean };
    };

    const sweeps: SweeperResult['sweeps'] = [];
    const allEnded = () => endedAt.size >= opts.grants;
    const schedule = (async () => {
      const running: Promise<void>[] = [];
      for (let minute = 0; minute < MAX_SWEEPS && !allEnded(); minute++) {
        const startedAt = vt.now;
        const c = container();
        c.busy = true;
        running.push(
          sweep(c.deps, opts.down ? { cutoff: cutoffAfter(SWEEP_CUTOFF_MS) } : {}).then((report) => {
            c.busy = false;
            sweeps.push({
              startedAtOffsetMs: startedAt - expiryStart,
              durationMs: vt.now - startedAt,
              report,
            });
          }),
        );
        await vt.sleep(MINUTE);
      }
      await Promise.all(running);
    })();
    await vt.run(schedule);

    const firstFullSweep = expiryStart + MINUTE;
    const lags = [...endedAt].map(([id, at]) => at - (expiries.get(id) ?? at));
    const ended = endedAt.size;
    const perRevoke = log.countSince(0);
    for (const s of Object.keys(perRevoke) as Service[])
      perRevoke[s] = round(perRevoke[s] / Math.max(1, ended));
    const over = (counts: Map<string, number>) => [...counts.values()].filter((c) => c > 1).length;
    const stillOpen = [...ssm.sessions.values()].filter((s) => s.endedAt === undefined).length;
    return {
      grants: opts.grants,
      retryMode: opts.retryMode ?? 'standard',
      containers: containers.length,
      iamLatencyMs,
      throttleRate,
      ssmLatencyMs: opts.ssmLatencyMs,
      dynamodbLatencyMs,
      allEndedAfterMs: ended === 0 ? Number.NaN : Math.max(...endedAt.values()) - firstFullSweep,
      lagFromExpiryMs: { p50: percentile(lags, 50), max: Math.max(...lags) },
      sweeps: sweeps.sort((a, b) => a.startedAtOffsetMs - b.startedAtOffsetMs),
      sweepsOver55s: sweeps.filter((s) => s.durationMs > 55_000).length,
      ended,
      missed: {
        grantsNotEnded: opts.grants - ended,
        policiesLeft: iam.policies.size,
        attachmentsLeft: [...iam.attachments.values()].reduce((n, a) => n + a.size, 0),
        sessionsOpen: stillOpen,
      },
      twice: {
        grantsEndedTwice: over(endings),
        policiesDeletedTwice: over(iam.deletes),
        detachedTwice: over(iam.detaches),
        sessionsTerminatedTwice: over(ssm.terminations),
      },
      callsPerRevoke: perRevoke,
      iamThrottled: iam.throttled,
      ...(opts.down
        ? {
            down: {
              how: opts.down,
              grants: opts.grants,
              calls: downCalls.count,
              markedEnding: [...store.items.values()].filter(
                (g) => g.account === DOWN_ACCOUNT && g.status === 'active' && g.ending !== undefined,
              ).length,
            },
          }
        : {}),
      operations: log.operationsSince(0),
      realSeconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    vt.uninstall();
  }
}

if (require.main === module) {
  childMain(async ([grants = '1000', retryMode = 'standard', down]) =>
    measureSweeper({
      grants: Number(grants),
      ssmLatencyMs: 200,
      retryMode: retryMode === 'adaptive' ? 'adaptive' : 'standard',
      ...(down === 'unreachable' || down === 'silent' ? { down } : {}),
    }),
  );
}
