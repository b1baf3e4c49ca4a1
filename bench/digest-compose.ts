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
 * DynamoDB (dynalite in the seeding process, over HTTP), compose, render and post the digest. Then
 * the same again with every read answered from memory, which leaves the compose and render time.
 */

export interface ComposeResult {
  /** postDigest end to end: every read from dynalite, compose, Block Kit, post. */
  endToEndMs: number;
  /** buildDigest + render with the reads served from memory (the second, warm, run). */
  composeMs: number;
  /** Peak resident set size of this process (process.resourceUsage().maxRSS). */
  peakRssMb: number;
  /** RSS after loading the code, before reading anything. */
  baselineRssMb: number;
  heapUsedAfterMb: number;
  read: { grants: number; sessions: number; activeNow: number };
  message: { blocks: number; textChars: number; longestSectionChars: number; bytes: number };
  view: { requests: number; sessions: number; sessionMinutes: number; activeNow: number };
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** What the first run read, so the second can be served from memory. */
interface Reads {
  ranges: Map<string, unknown[]>;
  active?: Grant[];
}

function recordingPorts(deps: DigestDeps, reads: Reads): Pick<DigestDeps, 'digestData' | 'grants' | 'runs'> {
  const keep =
    <A extends unknown[], T>(name: string, read: (...args: A) => Promise<T[]>) =>
    async (...args: A): Promise<T[]> => {
      const items = await read(...args);
      reads.ranges.set(`${name}:${args.join('|')}`, items);
      return items;
    };
  const { digestData, grants, runs } = deps;
  return {
    digestData: {
      grantsRequested: keep('grants', (f: string, t: string) => digestData.grantsRequested(f, t)),
      sessionsStarted: keep('sessions', (f: string, t: string) => digestData.sessionsStarted(f, t)),
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

/** The same ports answering every read the first run made from memory; anything else still reaches the store. */
function replayingPorts(deps: DigestDeps, reads: Reads): Pick<DigestDeps, 'digestData' | 'grants' | 'runs'> {
  const replay =
    (name: string) =>
    async (...args: string[]): Promise<never[]> =>
      (reads.ranges.get(`${name}:${args.join('|')}`) ?? []) as never[];
  const overriding = <T extends object>(port: T, methods: Record<string, unknown>): T =>
    new Proxy(port, {
      get: (target, property, receiver) =>
        Object.hasOwn(methods, property)
          ? methods[property as string]
          : Reflect.get(target, property, receiver),
    });
  return {
    digestData: {
      grantsRequested: replay('grants'),
      sessionsStarted: replay('sessions'),
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
  const deps: DigestDeps = {
    config: digestBenchConfig(),
    clock,
    grants,
    digestData: createDynamoDigestReader({ documentClient, tableName, grants }),
    runs: createDynamoCommandRunStore({ documentClient, tableName }),
    sessionChat: createSlackSessionChat({
      client: fakeWebClient({ log: new CallLog(), latencyMs: 0, sleep: async () => undefined, sent }),
    }),
    logger: silentLogger,
  };
  const reads: Reads = { ranges: new Map() };

  const t0 = performance.now();
  const posted = await postDigest({ ...deps, ...recordingPorts(deps, reads) });
  const endToEndMs = performance.now() - t0;
  const peakRssMb = round(process.resourceUsage().maxRSS / 1024, 1);

  const t1 = performance.now();
  const again = await buildDigest({ ...deps, ...replayingPorts(deps, reads) });
  digestMessage(again);
  const composeMs = performance.now() - t1;

  const message = sent.find((m) => m.method === 'chat.postMessage');
  const blocks = (message?.args.blocks as { text?: { text?: string } }[] | undefined) ?? [];
  const count = (prefix: string) =>
    [...reads.ranges].filter(([k]) => k.startsWith(prefix)).reduce((n, [, items]) => n + items.length, 0);
  client.destroy();
  return {
    endToEndMs: round(endToEndMs),
    composeMs: round(composeMs),
    peakRssMb,
    baselineRssMb,
    heapUsedAfterMb: mb(process.memoryUsage().heapUsed),
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
