import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { BatchPutRequest } from 'dynamodb-toolbox';
import { createGrantEntities, grantIndexKeys } from '../src/adapters/dynamodb/grant-entity';
import { createSessionEntities, sessionIndexKeys } from '../src/adapters/dynamodb/session-entity';
import { createKeyturnTable } from '../src/adapters/dynamodb/table';
import type { Grant } from '../src/domain/grant';
import type { Session } from '../src/domain/session';
import { childMain, runChild } from './child-process';
import { DAY, dayGrant, daySession } from './digest-fixture';
import type { ComposeResult } from './digest-compose';
import { CallLog } from './instrument';
import { round } from './stats';
import { startTimedDynalite } from './wire-fakes';

/**
 * Item 6: a day with `grants` requests and `sessions` sessions written to dynalite through the
 * stores' own schemas (index keys included), then the digest composed by a separate process (as the
 * digest Lambda would), while this process counts every DynamoDB request it makes.
 */

export interface DigestResult {
  grants: number;
  sessions: number;
  day: { date: string; timeZone: string };
  seedSeconds: number;
  /**
   * DynamoDB requests the digest process made, by operation, as dynalite saw them; a Scan would show
   * here. The process reads the day twice (the digest, then again to keep it for the compose timing).
   */
  requests: Record<string, number>;
  scans: number;
  /** Query pages the digest read (each Query request is one page of at most 1 MB), counted by its client. */
  queryPages: number;
  /** GetItem requests the digest made, counted by its client. */
  getItems: number;
  compose: ComposeResult;
}

/** BatchWriteItem takes at most 25 items. */
/** Keyturn's own account and region in the fixture: its sessions carry no place. */
const HOME = { accountId: '123456789012', region: 'ap-northeast-1' };
const BATCH = 25;
const IN_FLIGHT = 8;

export async function measureDigest(grantCount: number, sessionCount: number): Promise<DigestResult> {
  const log = new CallLog();
  const dynamo = await startTimedDynalite({ log, latency: { ms: 0 } });
  try {
    const t0 = performance.now();
    const documentClient = DynamoDBDocumentClient.from(dynamo.client);
    const table = createKeyturnTable(documentClient, dynamo.tableName);
    const { grant: grantEntity } = createGrantEntities(table);
    const { session: sessionEntity } = createSessionEntities(table);

    // Items as the stores write them: the entity's attributes, its index keys, its key and entity name.
    // Built directly (the toolbox's validation would take ~30 s here), and checked against the
    // toolbox's own output on a sample, so a schema change fails here instead of seeding wrong data.
    const grantItem = (g: Grant) => ({
      ...g,
      ...grantIndexKeys(g),
      _et: 'Grant',
      pk: `GRANT#${g.id}`,
      sk: 'GRANT',
    });
    const sessionItem = (x: Session) => ({
      ...x,
      ...sessionIndexKeys(x, HOME),
      _et: 'Session',
      pk: `SESSION#${x.id}`,
      sk: 'SESSION',
    });
    const grants: Grant[] = Array.from({ length: grantCount }, (_, i) => dayGrant(i, grantCount));
    const approved = grants.filter((g) => g.startsAt !== undefined);
    for (const g of grants.slice(0, 50)) {
      const expected = grantEntity
        .build(BatchPutRequest)
        .item({ ...g, ...grantIndexKeys(g) })
        .params();
      assertSame(expected.PutRequest?.Item, grantItem(g), `grant ${g.id}`);
    }
    for (let i = 0; i < 50; i++) {
      const x = daySession(i, approved);
      const expected = sessionEntity
        .build(BatchPutRequest)
        .item({ ...x, ...sessionIndexKeys(x, HOME) })
        .params();
      assertSame(expected.PutRequest?.Item, sessionItem(x), `session ${x.id}`);
    }

    const items = function* () {
      for (const g of grants) yield grantItem(g);
      for (let i = 0; i < sessionCount; i++) yield sessionItem(daySession(i, approved));
    };
    const source = items();
    const writer = async () => {
      for (;;) {
        const chunk: Record<string, unknown>[] = [];
        for (let next = source.next(); !next.done; next = source.next()) {
          chunk.push(next.value);
          if (chunk.length === BATCH) break;
        }
        if (chunk.length === 0) return;
        let pending: BatchWriteCommandInput['RequestItems'] = {
          [dynamo.tableName]: chunk.map((Item) => ({ PutRequest: { Item } })),
        };
        while (pending && Object.keys(pending).length > 0) {
          const out: BatchWriteCommandOutput = await documentClient.send(
            new BatchWriteCommand({ RequestItems: pending }),
          );
          pending = out.UnprocessedItems;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
    const seedSeconds = round((performance.now() - t0) / 1000, 1);

    const mark = log.mark();
    const compose = await runChild<ComposeResult>(
      path.join(__dirname, 'digest-compose.ts'),
      [dynamo.endpoint, dynamo.tableName],
      { label: 'digest-compose' },
    );
    const requests = log.operationsSince(mark);
    return {
      grants: grantCount,
      sessions: sessionCount,
      day: { date: DAY.date, timeZone: DAY.timeZone },
      seedSeconds,
      requests,
      scans: requests['DynamoDB:Scan'] ?? 0,
      queryPages: compose.digestRequests['DynamoDB:Query'] ?? 0,
      getItems: compose.digestRequests['DynamoDB:GetItem'] ?? 0,
      compose,
    };
  } finally {
    await dynamo.close();
  }
}

function assertSame(expected: unknown, built: unknown, what: string): void {
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(expected)), JSON.parse(JSON.stringify(built))))
    throw new Error(
      `the seeded ${what} differs from what the store would write:\n${JSON.stringify(expected)}\n${JSON.stringify(built)}`,
    );
}

if (require.main === module) {
  childMain(([grants = '20000', sessions = '100000']) => measureDigest(Number(grants), Number(sessions)));
}
