import { createSsmCommandRunner } from '../src/adapters/aws/ssm-command-runner';
import { createSsmFleet } from '../src/adapters/aws/ssm-fleet';
import { InProcessQueue } from '../src/adapters/memory/in-process-queue';
import { createSlackRunChat } from '../src/adapters/slack/slack-run-chat';
import type { Deps } from '../src/app/deps';
import { handleJob } from '../src/app/handle-job';
import { requestRun } from '../src/app/run-snippet';
import type { Config } from '../src/config/types';
import type { RunChat } from '../src/ports/run-chat';
import type { WorkQueue } from '../src/ports/work-queue';
import {
  MemoryCommandRunStore,
  MemoryGrantStore,
  onePlace,
  prodRaspi,
  silentLogger,
} from '../test/support/fakes';
import { awsLatency, benchConfig } from './bench-config';
import { childMain } from './child-process';
import { type FakeNode, FakeSsm, paginate, type RunCommandModel, ssmClientOn } from './fake-aws';
import { fakeWebClient, type SentMessage } from './fake-web-client';
import { CallLog, instrumentPort, type Service } from './instrument';
import { VirtualTime } from './virtual-time';

/**
 * Item 7: `/run prod-raspi disk` on 500 online nodes, on the virtual clock, through the real use cases
 * (request, start, track) and the real SSM Run Command and Slack adapters. SSM answers every call after
 * 200 ms; the nodes finish between 2 s and 20 s after the send. Tracking is the polling path (local
 * mode, and Lambda's fallback when EventBridge status-change events are late); events are not simulated.
 */

const T0 = '2026-11-23T10:00:00Z';
const DF_OUTPUT = `Filesystem      Size  Used Avail Use% Mounted on
/dev/root        29G  7.1G   21G  26% /`;

/** Slack's documented message limits (FACTS.md "Slack"). */
const LIMITS = { blocks: 50, sectionText: 3_000, text: 40_000 };

export interface FanOutResult {
  nodes: number;
  ssmLatencyMs: number;
  /** From the /run request until SendCommand was accepted. */
  commandSentMs: number;
  /** From the /run request until the last node finished on the SSM side. */
  lastNodeAnsweredMs: number;
  /** From the /run request until the run's message shows the final summary. */
  finalSummaryMs: number;
  firstResultPostedMs: number;
  messages: {
    posted: number;
    threadReplies: number;
    updates: number;
    /** Node results per thread reply, largest (runs on more than 20 nodes post groups instead). */
    mostResultsInOneReply: number;
    /** Groups of identical results posted (runs on more than 20 nodes). */
    groups: number;
    /** Every chat.postMessage of the run: its message and the thread replies. */
    perRun: number;
    largest: { blocks: number; textChars: number; sectionChars: number };
    withinLimits: boolean;
    /** Most chat.postMessage calls in any one second (Slack allows about one per second per channel, with bursts). */
    peakPostsPerSecond: number;
  };
  calls: Record<Service, number>;
  operations: Record<string, number>;
}

/** SendCommand on a fleet whose every node answers `answerMs(i)` after the send. */
class FleetCommand implements RunCommandModel {
  private command: { id: string; comment: string; sentAt: number; nodes: FakeNode[] } | undefined;

  get sentAt(): number | undefined {
    return this.command?.sentAt;
  }

  constructor(
    private readonly nodes: readonly FakeNode[],
    private readonly now: () => number,
    private readonly answerMs: (i: number) => number,
  ) {}

  private finishedAt(node: FakeNode): number {
    return (this.command?.sentAt ?? 0) + this.answerMs(this.nodes.indexOf(node));
  }

  private status(node: FakeNode): string {
    return this.finishedAt(node) <= this.now() ? 'Success' : 'InProgress';
  }

  private plugins(node: FakeNode): unknown[] {
    if (!this.command || this.status(node) !== 'Success') return [];
    return [
      {
        Name: 'aws:runShellScript',
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        // The JSON protocol's timestamps: epoch seconds.
        ResponseStartDateTime: (this.command.sentAt + 500) / 1000,
        ResponseFinishDateTime: this.finishedAt(node) / 1000,
        Output: DF_OUTPUT,
        StandardOutputUrl: '',
        StandardErrorUrl: '',
      },
    ];
  }

  answer(operation: string, input: Record<string, unknown>): unknown {
    const c = this.command;
    switch (operation) {
      case 'SendCommand': {
        const targets = (input.Targets ?? []) as { Key: string; Values: string[] }[];
        const nodes = this.nodes.filter((n) =>
          targets.every((t) => t.Values.includes(n.tags[t.Key.slice(4)] ?? '')),
        );
        this.command = { id: 'cmd-bench-0001', comment: String(input.Comment), sentAt: this.now(), nodes };
        return {
          Command: {
            CommandId: this.command.id,
            Comment: this.command.comment,
            Status: 'Pending',
            TargetCount: nodes.length,
            ExpiresAfter: (this.now() + (Number(input.TimeoutSeconds ?? 300) + 3_600) * 1000) / 1000,
          },
        };
      }
      case 'ListCommands': {
        if (!c) return { Commands: [] };
        const done = c.nodes.every((n) => this.status(n) === 'Success');
        return {
          Commands: [
            {
              CommandId: c.id,
              Comment: c.comment,
              Status: done ? 'Success' : 'InProgress',
              TargetCount: c.nodes.length,
              CompletedCount: c.nodes.filter((n) => this.status(n) === 'Success').length,
            },
          ],
        };
      }
      case 'ListCommandInvocations': {
        const page = paginate(c?.nodes ?? [], input, 50);
        return {
          CommandInvocations: page.items.map((n) => ({
            CommandId: c?.id,
            InstanceId: n.id,
            InstanceName: n.name,
            Status: this.status(n),
            StatusDetails: this.status(n),
            // With Details, SSM lists each node's plugin output (up to 2,500 characters), as GetCommandInvocation would.
            ...(input.Details === true ? { CommandPlugins: this.plugins(n) } : {}),
          })),
          ...(page.next ? { NextToken: page.next } : {}),
        };
      }
      case 'GetCommandInvocation': {
        const node = c?.nodes.find((n) => n.id === input.InstanceId);
        if (!c || !node) return undefined;
        const status = this.status(node);
        return {
          CommandId: c.id,
          InstanceId: node.id,
          Status: status,
          StatusDetails: status,
          ResponseCode: status === 'Success' ? 0 : -1,
          ExecutionStartDateTime: new Date(c.sentAt + 500).toISOString(),
          ExecutionEndDateTime: new Date(this.finishedAt(node)).toISOString(),
          StandardOutputContent: DF_OUTPUT,
          StandardErrorContent: '',
          StandardOutputUrl: '',
          StandardErrorUrl: '',
        };
      }
      default:
        return undefined;
    }
  }
}

export async function measureFanOut(nodeCount: number): Promise<FanOutResult> {
  const latency = awsLatency(300);
  const vt = new VirtualTime(T0);
  vt.install();
  try {
    const log = new CallLog();
    const sleep = (ms: number) => vt.sleep(ms);
    const now = () => vt.now;
    const base = benchConfig({ people: 1, nodes: nodeCount });
    const config: Config = {
      ...base,
      targets: { 'prod-raspi': { ...prodRaspi, runners: ['U0CAROL'] } },
      snippets: {
        disk: {
          name: 'disk',
          description: 'Disk usage',
          run: 'df -h /',
          targets: ['prod-raspi'],
          params: {},
          approval: false,
        },
      },
    };
    const nodes: FakeNode[] = config.sandbox.fleet.map((n) => ({ ...n, tags: { ...n.tags } }));
    const ssm = new FakeSsm({ log, latencyMs: latency.ssm, sleep, nodes, now });
    const answerMs = (i: number) => 2_000 + ((i * 7_919) % 18_000);
    const fleet = new FleetCommand(nodes, now, answerMs);
    ssm.runCommand = fleet;

    const sent: SentMessage[] = [];
    const slackRunChat = createSlackRunChat({
      served: config.aws,
      client: fakeWebClient({ log, latencyMs: latency.slack, sleep, sent, now }),
    });
    let summaryAt: number | undefined;
    let mostResultsInOneReply = 0;
    /** How many groups of identical results the run's nodes made. */
    let groups = 0;
    const runChat: RunChat = {
      ...slackRunChat,
      postResults: async (thread, view) => {
        mostResultsInOneReply = Math.max(mostResultsInOneReply, view.results.length);
        await slackRunChat.postResults(thread, view);
      },
      postResultGroups: async (thread, view) => {
        groups = view.groups.length;
        await slackRunChat.postResultGroups(thread, view);
      },
      updateRunMessage: async (ref, view) => {
        await slackRunChat.updateRunMessage(ref, view);
        if (view.run.status === 'finished') summaryAt ??= vt.now;
      },
    };
    const worker = new InProcessQueue({ logger: silentLogger });
    const queue: WorkQueue = {
      enqueue: async (job) => {
        log.record('SQS', 'SendMessage');
        await worker.enqueue(job);
      },
    };
    const db = <T extends object>(store: T) =>
      instrumentPort(store, { service: 'DynamoDB', log, latencyMs: latency.dynamodb, sleep });
    const ssmClient = ssmClientOn(ssm);
    let n = 0;
    // Grant and session ports are not part of a run: a use case reaching for one fails on undefined.
    const deps = {
      config,
      grants: db(new MemoryGrantStore()),
      runs: db(new MemoryCommandRunStore()),
      queue,
      aws: onePlace({
        fleet: createSsmFleet(ssmClient),
        commands: createSsmCommandRunner(ssmClient, { sendClient: ssmClientOn(ssm, { maxAttempts: 1 }) }),
      }),
      runChat,
      clock: vt.clock,
      logger: silentLogger,
      newId: () => `run${++n}`,
    } satisfies Partial<Deps> as Partial<Deps> as Deps;
    worker.start((job) => handleJob(deps, job));

    const requestedAt = vt.now;
    const started = await vt.run(
      requestRun(deps, {
        user: 'U0CAROL',
        channel: 'C0OPS',
        text: 'prod-raspi disk',
        requestKey: 'trigger-1',
      }),
    );
    if (started.outcome !== 'started') throw new Error(`run refused: ${JSON.stringify(started)}`);
    await vt.run(worker.idle());
    if (summaryAt === undefined) throw new Error('the run never showed its final summary');

    const posts = sent.filter((m) => m.method === 'chat.postMessage');
    const replies = posts.filter((m) => m.args.thread_ts !== undefined);
    const shapes = sent
      .filter((m) => m.method === 'chat.postMessage' || m.method === 'chat.update')
      .map((m) => {
        const blocks = (m.args.blocks ?? []) as { type?: string; text?: { text?: string } }[];
        return {
          blocks: blocks.length,
          textChars: String(m.args.text ?? '').length,
          sectionChars: Math.max(0, ...blocks.map((b) => b.text?.text?.length ?? 0)),
        };
      });
    const largest = {
      blocks: Math.max(...shapes.map((s) => s.blocks)),
      textChars: Math.max(...shapes.map((s) => s.textChars)),
      sectionChars: Math.max(...shapes.map((s) => s.sectionChars)),
    };
    const perSecond = new Map<number, number>();
    for (const p of posts)
      perSecond.set(Math.floor(p.at / 1000), (perSecond.get(Math.floor(p.at / 1000)) ?? 0) + 1);
    const firstReply = replies[0]?.at ?? Number.NaN;
    const sentAt = fleet.sentAt ?? Number.NaN;
    return {
      nodes: nodeCount,
      ssmLatencyMs: latency.ssm,
      commandSentMs: sentAt - requestedAt,
      lastNodeAnsweredMs: sentAt + Math.max(...nodes.map((_, i) => answerMs(i))) - requestedAt,
      finalSummaryMs: summaryAt - requestedAt,
      firstResultPostedMs: firstReply - requestedAt,
      messages: {
        posted: posts.length,
        threadReplies: replies.length,
        updates: sent.filter((m) => m.method === 'chat.update').length,
        mostResultsInOneReply,
        groups,
        perRun: posts.length,
        largest,
        withinLimits:
          largest.blocks <= LIMITS.blocks &&
          largest.textChars <= LIMITS.text &&
          largest.sectionChars <= LIMITS.sectionText,
        peakPostsPerSecond: Math.max(0, ...perSecond.values()),
      },
      calls: log.countSince(0),
      operations: log.operationsSince(0),
    };
  } finally {
    vt.uninstall();
  }
}

if (require.main === module) {
  childMain(([nodes = '500']) => measureFanOut(Number(nodes)));
}
