import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createSignedDocumentClient } from '../../src/adapters/aws/signed-dynamodb';
import { type HttpPost, nodePost } from '../../src/adapters/aws/signed-json';
import {
  createDynamoCommandRunStore,
  createDynamoRunRecords,
} from '../../src/adapters/dynamodb/command-run-store';
import { createDynamoGrantStore } from '../../src/adapters/dynamodb/grant-store';
import { ensureTable, startDynalite } from '../../src/adapters/dynamodb/local';
import type { Grant } from '../../src/domain/grant';
import { transition } from '../../src/domain/grant';
import type { CommandRunRecords, CommandRunStore } from '../../src/ports/command-run-store';
import { pendingGrant, queuedRun } from '../support/stored-records';
import type { GrantStore } from '../../src/ports/grant-store';

/**
 * A conditional write whose answer is lost (the connection drops or times out after DynamoDB wrote it)
 * is retried by the client, and the retry fails the write's own condition. The stores must hear that
 * as done, not as a lost race: a claim that went to its own first attempt is still ours, and a create
 * is not withdrawn as a duplicate of itself. Both transports are exercised the way they retry: the
 * AWS SDK's (the worker's) through its request handler, the slack function's signed client through its
 * `post`. A write that never reached DynamoDB and then lost a real race stays lost.
 */

type Fault = 'answer-lost' | 'never-sent';

interface Faulty {
  grants: GrantStore;
  runs: CommandRunStore;
  /** The slack function's run store (CommandRunRecords). */
  records: CommandRunRecords;
  /** The write of `operation` after the next `skip` fails this way once, as a timeout the client retries. */
  failNext(operation: 'PutItem' | 'UpdateItem', fault: Fault, skip?: number): void;
  /** How many times each operation reached DynamoDB. */
  sent: Map<string, number>;
}

let dynalite: Awaited<ReturnType<typeof startDynalite>>;
let setupClient: DynamoDBClient;
const tableName = `keyturn-test-${randomUUID()}`;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  dynalite = await startDynalite();
  setupClient = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials });
  await ensureTable(setupClient, tableName);
});

afterAll(async () => {
  setupClient?.destroy();
  await dynalite?.close();
});

function faults() {
  const pending = new Map<string, { fault: Fault; skip: number }>();
  const sent = new Map<string, number>();
  return {
    sent,
    failNext(operation: string, fault: Fault, skip = 0) {
      pending.set(operation, { fault, skip });
    },
    /** Runs `send` unless the operation is to fail before it is sent; throws after it when its answer is to be lost. */
    async around<T>(operation: string, send: () => Promise<T>): Promise<T> {
      const next = pending.get(operation);
      let fault: Fault | undefined;
      if (next !== undefined && next.skip > 0) next.skip -= 1;
      else if (next !== undefined) {
        fault = next.fault;
        pending.delete(operation);
      }
      const timeout = () => Object.assign(new Error('no answer within 2000 ms'), { code: 'ETIMEDOUT' });
      if (fault === 'never-sent') throw timeout();
      sent.set(operation, (sent.get(operation) ?? 0) + 1);
      const answer = await send();
      if (fault === 'answer-lost') throw timeout();
      return answer;
    },
  };
}

function sdkStores(): Faulty {
  const f = faults();
  const real = new NodeHttpHandler();
  const handler = {
    handle: (
      request: Parameters<NodeHttpHandler['handle']>[0],
      options?: Parameters<NodeHttpHandler['handle']>[1],
    ) => {
      const operation = String(request.headers['x-amz-target']).split('.')[1] ?? '';
      return f
        .around(operation, async () => {
          const answer = await real.handle(request, options);
          return answer;
        })
        .catch((error: Error & { code?: string }) => {
          // What the SDK's Node handler throws when a request times out: a TimeoutError, which it retries.
          if (error.code === 'ETIMEDOUT') throw Object.assign(error, { name: 'TimeoutError' });
          throw error;
        });
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => real.destroy(),
  } as unknown as NodeHttpHandler;
  const client = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'us-east-1',
    credentials,
    requestHandler: handler,
  });
  const documentClient = DynamoDBDocumentClient.from(client);
  return {
    grants: createDynamoGrantStore({ documentClient, tableName }),
    runs: createDynamoCommandRunStore({ documentClient, tableName }),
    records: createDynamoRunRecords({ documentClient, tableName }),
    failNext: f.failNext,
    sent: f.sent,
  };
}

function signedStores(): Faulty {
  const f = faults();
  const post: HttpPost = (url, init) =>
    f.around(String(init.headers['x-amz-target']).split('.')[1] ?? '', () => nodePost(url, init));
  const documentClient = createSignedDocumentClient({
    post,
    sleep: async () => undefined,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    region: 'us-east-1',
  }) as unknown as DynamoDBDocumentClient;
  // The stores as the slack bundle builds them: dynamodb-toolbox's `@aws-sdk/lib-dynamodb` is the
  // signed module there (deploy/esbuild-plugins.js), so they are loaded afresh with it in its place.
  let stores: Pick<Faulty, 'grants' | 'runs' | 'records'> | undefined;
  jest.isolateModules(() => {
    jest.doMock('@aws-sdk/lib-dynamodb', () => jest.requireActual('../../src/adapters/aws/signed-dynamodb'));
    const { createDynamoGrantStore: grantStore } = require('../../src/adapters/dynamodb/grant-store');
    const runStores = require('../../src/adapters/dynamodb/command-run-store');
    stores = {
      grants: grantStore({ documentClient, tableName }),
      runs: runStores.createDynamoCommandRunStore({ documentClient, tableName }),
      records: runStores.createDynamoRunRecords({ documentClient, tableName }),
    };
  });
  jest.dontMock('@aws-sdk/lib-dynamodb');
  if (!stores) throw new Error('test setup: stores not loaded');
  return { ...stores, failNext: f.failNext, sent: f.sent };
}

let seq = 0;
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${++seq}`;

function aGrant(): Grant {
  const requester = unique('U');
  return pendingGrant({
    id: unique('g-'),
    requestKey: unique('trigger-'),
    requester,
    history: [{ at: '2025-03-04T23:59:30Z', from: null, to: 'pending', by: requester }],
  });
}

const aRun = () => queuedRun({ id: unique('r-'), requestKey: unique('trigger-') });

describe.each([
  ['the AWS SDK (worker)', sdkStores],
  ['the signed client (slack function)', signedStores],
])('over %s', (_name, make) => {
  let s: Faulty;
  beforeAll(() => {
    s = make();
  });

  it('creates a grant whose grant, request-key and slot writes each lost their answer once', async () => {
    // The create's puts in order: the grant, its request key, its open slot.
    for (const lost of [0, 1, 2]) {
      const grant = aGrant();
      s.sent.clear();
      s.failNext('PutItem', 'answer-lost', lost);
      const outcome = await s.grants.create(grant);
      expect(outcome).toEqual({ ok: true });
      expect(await s.grants.get(grant.id)).toEqual(grant);
      // The retry reached DynamoDB: each lost answer cost one more PutItem than the three writes.
      expect(s.sent.get('PutItem')).toBe(4);
    }
  });

  it('saves a grant whose versioned save lost its answer, and a second save of that version is still stale', async () => {
    const grant = aGrant();
    expect(await s.grants.create(grant)).toEqual({ ok: true });
    const moved = transition(grant, 'denied', { at: '2025-03-05T00:01:00Z', by: 'UAPPROVER', set: {} });
    if (!moved.ok) throw new Error('test setup: pending -> denied is legal');
    s.failNext('PutItem', 'answer-lost');
    expect(await s.grants.save(moved.value, grant.version)).toBe('saved');
    expect(await s.grants.get(grant.id)).toEqual(moved.value);
    expect(await s.grants.save(moved.value, grant.version)).toBe('stale');
  });

  it("a retried save that never landed is stale, even beside another writer's identical save (a double click in one second)", async () => {
    const grant = aGrant();
    expect(await s.grants.create(grant)).toEqual({ ok: true });
    const moved = transition(grant, 'denied', { at: '2025-03-05T00:01:00Z', by: 'UAPPROVER', set: {} });
    if (!moved.ok) throw new Error('test setup: pending -> denied is legal');
    // The other click saved exactly the same grant; this one's first attempt never reached DynamoDB.
    expect(await s.grants.save(moved.value, grant.version)).toBe('saved');
    s.failNext('PutItem', 'never-sent');
    expect(await s.grants.save(moved.value, grant.version)).toBe('stale');
    // And a claim with the same content, likewise.
    expect(await s.grants.claimEffect(grant.id, 'denied-dm', '2025-03-05T00:01:00.000Z')).toBe(true);
    s.failNext('PutItem', 'never-sent');
    expect(await s.grants.claimEffect(grant.id, 'denied-dm', '2025-03-05T00:01:00.000Z')).toBe(false);
  });

  it('claims an effect whose claim lost its answer, once: a second claimer still loses', async () => {
    const grant = aGrant();
    s.failNext('PutItem', 'answer-lost');
    expect(await s.grants.claimEffect(grant.id, 'ready-dm', '2025-03-05T00:01:00.000Z')).toBe(true);
    expect(await s.grants.claimEffect(grant.id, 'ready-dm', '2025-03-05T00:01:00.001Z')).toBe(false);
  });

  it('a retried claim that lost a real race stays lost (its first attempt never reached DynamoDB)', async () => {
    const grant = aGrant();
    expect(await s.grants.claimEffect(grant.id, 'card', '2025-03-05T00:01:00.000Z')).toBe(true);
    s.failNext('PutItem', 'never-sent');
    s.sent.clear();
    expect(await s.grants.claimEffect(grant.id, 'card', '2025-03-05T00:01:00.500Z')).toBe(false);
    expect(s.sent.get('PutItem')).toBe(1);
  });

  it('creates a run and claims a node post whose writes lost their answers', async () => {
    const run = aRun();
    s.failNext('PutItem', 'answer-lost');
    expect(await s.runs.create(run)).toEqual({ ok: true });
    expect(await s.runs.get(run.id)).toEqual(run);
    expect(
      await s.runs.recordNode(run.id, {
        nodeId: 'mi-0a1b2c3d4e5f60001',
        outcome: 'succeeded',
        status: 'Success',
        stdout: 'ok',
        stdoutChars: 2,
        stderr: '',
        stderrChars: 0,
      }),
    ).toBe(true);
    s.failNext('UpdateItem', 'answer-lost');
    expect(await s.runs.claimNodePost(run.id, 'mi-0a1b2c3d4e5f60001', '2025-03-05T00:02:00.000Z')).toBe(true);
    expect(await s.runs.claimNodePost(run.id, 'mi-0a1b2c3d4e5f60001', '2025-03-05T00:02:00.001Z')).toBe(
      false,
    );
    // Another poster's claim at the same millisecond, whose first attempt never reached DynamoDB: not its.
    s.failNext('UpdateItem', 'never-sent');
    expect(await s.runs.claimNodePost(run.id, 'mi-0a1b2c3d4e5f60001', '2025-03-05T00:02:00.000Z')).toBe(
      false,
    );
  });

  it("the slack function's run records create a run whose write lost its answer", async () => {
    const run = aRun();
    const records = s.records;
    s.failNext('PutItem', 'answer-lost');
    expect(await records.create(run)).toEqual({ ok: true });
    expect(await records.get(run.id)).toEqual(run);
  });
});
