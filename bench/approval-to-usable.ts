import { createIamAccessControl } from '../src/adapters/aws/iam-access-control';
import { createSsmFleet } from '../src/adapters/aws/ssm-fleet';
import { InProcessQueue } from '../src/adapters/memory/in-process-queue';
import { createSlackChat } from '../src/adapters/slack/slack-chat';
import { decideOnGrant } from '../src/app/decide';
import type { Deps } from '../src/app/deps';
import { handleJob } from '../src/app/handle-job';
import { requestAccess } from '../src/app/request-access';
import type { Chat } from '../src/ports/chat';
import type { WorkQueue } from '../src/ports/work-queue';
import { MemoryGrantStore, onePlace, sessionFakes, silentLogger, testConfig } from '../test/support/fakes';
import { awsLatency } from './bench-config';
import { childMain } from './child-process';
import { FakeIam, FakeSsm, iamClientOn, ssmClientOn } from './fake-aws';
import { fakeWebClient } from './fake-web-client';
import { CallLog, instrumentPort, type Service } from './instrument';
import { VirtualTime } from './virtual-time';

/**
 * Item 4: from the Approve click to the requester's "ready" DM, on the virtual clock. The worker runs
 * the real use cases with the real IAM, SSM and Slack adapters, whose calls reach in-memory services
 * after the injected latencies (IAM 300 ms, SSM 200 ms, Slack 150 ms, DynamoDB 10 ms per store call),
 * and waits for readiness as in production (first check at once, then 1 s, 2 s, 4 s … up to 60 s).
 * With `propagationMs`, IAM answers "allowed" only that long after the attach (eventual consistency).
 */

const T0 = '2026-11-23T10:00:00Z';

export interface ApprovalFlow {
  /** Virtual ms from the click until the Approve listener returns (what Slack waits for). */
  ackMs: number;
  /** Virtual ms from the click until the "ready" DM has been posted. */
  readyMs: number;
  calls: Record<Service, number>;
  /** IAM calls made before the first SimulatePrincipalPolicy (the readiness check), in order. */
  iamBeforeReadiness: string[];
  readinessChecks: number;
  operations: Record<string, number>;
}

export interface ApprovalResult {
  iamLatencyMs: number;
  propagationMs: number;
  /** The first approval a worker container handles (the quotas were read as the container started). */
  cold: ApprovalFlow;
  /** A second approval in the same container. */
  warm: ApprovalFlow;
}

export async function measureApprovalToUsable(propagationMs: number): Promise<ApprovalResult> {
  const latency = awsLatency(300);
  const vt = new VirtualTime(T0);
  vt.install();
  try {
    const log = new CallLog();
    const sleep = (ms: number) => vt.sleep(ms);
    const config = testConfig();
    const now = () => vt.now;
    const iam = new FakeIam({
      log,
      latencyMs: latency.iam,
      sleep,
      accountId: config.aws.accountId,
      now,
      propagationMs,
    });
    const nodes = config.sandbox.fleet.map((node) => ({ ...node, tags: { ...node.tags } }));
    const ssm = new FakeSsm({ log, latencyMs: latency.ssm, sleep, nodes, now });
    const store = new MemoryGrantStore();
    const grants = instrumentPort(store, { service: 'DynamoDB', log, latencyMs: latency.dynamodb, sleep });

    const readyAt = new Map<string, number>();
    const slackChat = createSlackChat({
      client: fakeWebClient({ log, latencyMs: latency.slack, sleep }),
      clock: vt.clock,
      served: config.aws,
    });
    const chat: Chat = {
      ...slackChat,
      notify: async (user, notice) => {
        await slackChat.notify(user, notice);
        if (notice.kind === 'ready' && !readyAt.has(notice.grant.id)) readyAt.set(notice.grant.id, vt.now);
      },
    };
    const worker = new InProcessQueue({ logger: silentLogger });
    const queue: WorkQueue = {
      enqueue: async (job) => {
        log.record('SQS', 'SendMessage');
        await worker.enqueue(job);
      },
    };
    let n = 0;
    // Run Command ports are not part of this flow: a use case reaching for one fails on undefined.
    const deps = {
      config,
      grants,
      queue,
      aws: onePlace({
        // As the worker builds it (src/main/lambda.ts): the quotas are read at container start.
        access: createIamAccessControl(iamClientOn(iam), {
          accountId: config.aws.accountId,
          readQuotasAtStart: true,
        }),
        fleet: createSsmFleet(ssmClientOn(ssm)),
      }),
      chat,
      clock: vt.clock,
      logger: silentLogger,
      newId: () => `g${++n}`,
      ...sessionFakes(store),
      // `satisfies` catches a port this flow names wrongly; the cast then stands for the ones it never uses.
    } satisfies Partial<Deps> as Partial<Deps> as Deps;
    worker.start((job) => handleJob(deps, job));

    const approval = async (user: string): Promise<ApprovalFlow> => {
      // The request and its card come first; the clock that matters starts at the click.
      const requested = await vt.run(requestAccess(deps, { user, text: 'prod-raspi 1h replace sensor' }));
      if (requested.outcome !== 'requested') throw new Error(`request refused: ${JSON.stringify(requested)}`);
      await vt.run(worker.idle());

      const mark = log.mark();
      const clickedAt = vt.now;
      const decided = await vt.run(
        decideOnGrant(deps, { grantId: requested.grant.id, clicker: 'U0CAROL', action: 'approve' }),
      );
      if (decided.outcome !== 'approved') throw new Error(`not approved: ${decided.outcome}`);
      const ackMs = vt.now - clickedAt;
      await vt.run(worker.idle());
      const ready = readyAt.get(requested.grant.id);
      if (ready === undefined) throw new Error('no ready DM was sent');

      const iamCalls = log
        .since(mark)
        .filter((c) => c.service === 'IAM')
        .map((c) => c.operation);
      const firstCheck = iamCalls.indexOf('SimulatePrincipalPolicy');
      return {
        ackMs,
        readyMs: ready - clickedAt,
        calls: log.countSince(mark),
        iamBeforeReadiness: firstCheck < 0 ? iamCalls : iamCalls.slice(0, firstCheck),
        readinessChecks: iamCalls.filter((op) => op === 'SimulatePrincipalPolicy').length,
        operations: log.operationsSince(mark),
      };
    };

    const cold = await approval('U0ALICE');
    const warm = await approval('U0BOB');
    return { iamLatencyMs: latency.iam, propagationMs, cold, warm };
  } finally {
    vt.uninstall();
  }
}

if (require.main === module) {
  childMain(async (args) => {
    const results: ApprovalResult[] = [];
    for (const propagation of args.length > 0 ? args : ['0', '5000']) {
      results.push(await measureApprovalToUsable(Number(propagation)));
    }
    return results;
  });
}
