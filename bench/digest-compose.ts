import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoCommandRunStore } from '../src/adapters/dynamodb/command-run-store';
import { createDynamoDigestReader } from '../src/adapters/dynamodb/digest-reader';
import { createDynamoGrantStore } from '../src/adapters/dynamodb/grant-store';
import { createSlackSessionChat } from '../src/adapters/slack/slack-session-chat';
import { buildDigest, type DigestDeps, postDigest } from '../src/app/post-digest';
import type { Clock } from '../src/ports/clock';
import { digestMessage } from '../src/adapters/slack/digest-blocks';
import type { Grant } from '../src/domain/grant';
import type { GrantStore } from '../src/ports/grant-store';
import { silentLogger } from '../test/support/fakes';
import { digestBenchConfig, DIGEST_NOW } from './digest-fixture';
import { childMain } from './child-process';
import { fakeWebClient, type SentMessage } from './fake-web-client';
import { CallLog } from './instrument';
import { round } from './stats';

/**
 * The digest Lambda's work, alone in its own process so its peak RSS is its own: read the day from
 * DynamoDB (dynalite in the seeding process, over HTTP), compose, render and post the digest; the
 * peak RSS is read right after. Then the day is read again and kept (which the digest itself never
 * does), and composed once more with every read answered from memory, which leaves the compose and
 * render time.
 */

export interface ComposeResult {
  /** postDigest end to end: every read from dynalite, compose, Block Kit, post. */
  endToEndMs: number;
  /** buildDigest + render with the reads served from memory (the second, warm, run). */
  composeMs: number;
  /**
   * Peak resident set size of this process: the kernel's high-water mark for its own memory (VmHWM).
   * Not `maxRSS`: on Linux a spawned child's maxRSS starts at its parent's RSS at the fork, and the
   * parent here holds dynalite with the whole day in memory.
   */
  peakRssMb: number;
  /** process.resourceUsage().maxRSS, for comparison with earlier runs (includes the parent's RSS at the fork). */
  maxRssInheritedMb: number;
  /** DynamoDB requests the digest made (the first run only), by operation. */
  digestRequests: Record<string, number>;
  /** RSS after loading the code, before reading anything. */
  baselineRssMb: number;
  /** Heap in use right after the digest was posted (before the day is read again and kept). */
  heapUsedAfterMb: number;
  read: { grants: number; sessions: number; activeNow: number };
  message: { blocks: number; textChars: number; longestSectionChars: number; bytes: number };
  view: { requests: number; sessions: number; sessionMinutes: number; activeNow: number };
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** This process's own peak RSS (Linux /proc/self/status VmHWM, in kB), or undefined elsewhere. */
function ownPeakRssMb(): number | undefined {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024, 1);
  } catch {
    return undefined;
  }
}

/** What the recording run read, page by page, so the last run can be served from memory. */
interface Reads {
  ranges: Map<string, unknown[][]>;
  active?: Grant[];
}

const rangeKey = (name: string, args: readonly unknown[]) => `${name}:${args.join('|')}`;

function recordingPorts(deps: DigestDeps, reads: Reads): Pick<DigestDeps, 'digestData' | 'grants' | 'runs'> {
  const keep =
    <A extends unknown[], T>(name: string, read: (...args: A) => Promise<T[]>) =>
    async (...args: A): Promise<T[]> => {
      const items = await read(...args);
      reads.ranges.set(rangeKey(name, args), [items]);
      return items;
    };
  const keepPages = <T>(name: string, read: (from: string, to: string) => AsyncIterable<readonly T[]>) =>
    async function* (from: string, to: string): AsyncGenerator<readonly T[]> {
      const pages: T[][] = [];
      reads.ranges.set(rangeKey(name, [from, to]), pages);
      for await (const page of read(from, to)) {
        pages.push([...page]);
        yield page;
      }
    };
  const { digestData, grants, runs } = deps;
  return {
    digestData: {
      grantsRequested: keepPages('grants', (f, t) => digestData.grantsRequested(f, t)),
      sessionsStarted: keepPages('sessions', (f, t) => digestData.sessionsStarted(f, t)),
      anomalies: keep('anomalies', (f: string, t: string) => digestData.anomalies(f, t)),
      claimPost: (day, at) => digestData.claimPost(day, at),
    },
    grants: new Proxy(grants, {
      get(target, property, receiver) {
        if (property !== 'listByStatus') return Reflect.get(target, property, receiver);
        return async (status: Parameters<GrantStore['listByStatus']>[0], o?: { dueBy?: string }) => {
          const items = await target.listByStatus(status, o);
          reads.active = items;
          return items;
        };
      },
    }),
    runs: new Proxy(runs, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'listByDay' && property !== 'nodeResults') return value;
        return keep(String(property), (arg: string) =>
          (value as (a: string) => Promise<unknown[]>).call(target, arg),
        );
      },
    }),
  };
}

/** The same ports answering every read the recording run made from memory; anything else still reaches the store. */
function replayingPorts(deps: DigestDeps, reads: Reads): Pick<DigestDeps, 'digestData' | 'grants' | 'runs'> {
  const pagesOf = (name: string, args: readonly unknown[]) =>
    (reads.ranges.get(rangeKey(name, args)) ?? []) as never[][];
  const replay =
    (name: string) =>
    async (...args: string[]): Promise<never[]> =>
      pagesOf(name, args).flat();
  const replayPages = (name: string) =>
    async function* (...args: string[]): AsyncGenerator<never[]> {
      yield* pagesOf(name, args);
    };
  const overriding = <T extends object>(port: T, methods: Record<string, unknown>): T =>
    new Proxy(port, {
      get: (target, property, receiver) =>
        Object.hasOwn(methods, property)
          ? methods[property as string]
          : Reflect.get(target, property, receiver),
    });
  return {
    digestData: {
      grantsRequested: replayPages('grants'),
      sessionsStarted: replayPages('sessions'),
      anomalies: replay('anomalies'),
      claimPost: async () => true,
    },
    grants: overriding(deps.grants, { listByStatus: async () => reads.active ?? [] }),
    runs: overriding(deps.runs, { listByDay: replay('listByDay'), nodeResults: replay('nodeResults') }),
  };
}

export async function composeDigestOnce(endpoint: string, tableName: string): Promise<ComposeResult> {
  const baselineRssMb = mb(process.memoryUsage().rss);
  const client = new DynamoDBClient({
    endpoint,
    region: 'ap-northeast-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const documentClient = DynamoDBDocumentClient.from(client);
  const grants = createDynamoGrantStore({ documentClient, tableName });
  const sent: SentMessage[] = [];
  const clock: Clock = { now: () => new Date(DIGEST_NOW), sleep: async () => undefined };
  const config = digestBenchConfig();
  const deps: DigestDeps = {
    config,
    clock,
    grants,
    digestData: createDynamoDigestReader({ documentClient, tableName }),
    runs: createDynamoCommandRunStore({ documentClient, tableName }),
    sessionChat: createSlackSessionChat({
      served: config.aws,
      client: fakeWebClient({ log: new CallLog(), latencyMs: 0, sleep: async () => undefined, sent }),
    }),
    logger: silentLogger,
  };
  const reads: Reads = { ranges: new Map() };

  // DynamoDB commands of the digest itself (the first run), by name; the seeding process counts the whole child.
  const digestRequests: Record<string, number> = {};
  let counting = true;
  documentClient.middlewareStack.add(
    (next, context) => async (args) => {
      const name = `DynamoDB:${(context.commandName ?? '?').replace(/Command$/, '')}`;
      if (counting) digestRequests[name] = (digestRequests[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countDigestRequests' },
  );

  const t0 = performance.now();
  const posted = await postDigest(deps);
  counting = false;
  const endToEndMs = performance.now() - t0;
  const maxRssInheritedMb = round(process.resourceUsage().maxRSS / 1024, 1);
  const peakRssMb = ownPeakRssMb() ?? maxRssInheritedMb;
  const heapUsedAfterMb = mb(process.memoryUsage().heapUsed);

  await buildDigest({ ...deps, ...recordingPorts(deps, reads) });
  const t1 = performance.now();
  const again = await buildDigest({ ...deps, ...replayingPorts(deps, reads) });
  digestMessage(again);
  const composeMs = performance.now() - t1;

  const message = sent.find((m) => m.method === 'chat.postMessage');
  const blocks = (message?.args.blocks as { text?: { text?: string } }[] | undefined) ?? [];
  const count = (prefix: string) =>
    [...reads.ranges]
      .filter(([k]) => k.startsWith(prefix))
      .reduce((n, [, pages]) => n + pages.reduce((m, page) => m + page.length, 0), 0);
  client.destroy();
  return {
    endToEndMs: round(endToEndMs),
    composeMs: round(composeMs),
    peakRssMb,
    maxRssInheritedMb,
    digestRequests,
    baselineRssMb,
    heapUsedAfterMb,
    read: { grants: count('grants:'), sessions: count('sessions:'), activeNow: reads.active?.length ?? 0 },
    message: {
      blocks: blocks.length,
      textChars: String(message?.args.text ?? '').length,
      longestSectionChars: Math.max(0, ...blocks.map((b) => b.text?.text?.length ?? 0)),
      bytes: Buffer.byteLength(JSON.stringify(message?.args ?? {})),
    },
    view: {
      requests: posted.view.requests.total,
      sessions: posted.view.sessions.count,
      sessionMinutes: Math.round(posted.view.sessions.seconds / 60),
      activeNow: posted.view.activeNow.length,
    },
  };
}

if (require.main === module) {
  childMain(([endpoint, tableName]) => {
    if (!endpoint || !tableName) throw new Error('usage: digest-compose <result.json> <endpoint> <table>');
    return composeDigestOnce(endpoint, tableName);
  });
}
