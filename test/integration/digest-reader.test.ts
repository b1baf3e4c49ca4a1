import { createDynamoAnomalyLog } from '../../src/adapters/dynamodb/anomaly-log';
import { createDynamoDigestReader } from '../../src/adapters/dynamodb/digest-reader';
import { PutItemCommand } from 'dynamodb-toolbox';
import { createGrantEntities, grantIndexKeys } from '../../src/adapters/dynamodb/grant-entity';
import { createDynamoSessionStore } from '../../src/adapters/dynamodb/session-store';
import { createKeyturnTable } from '../../src/adapters/dynamodb/table';
import {
  composeDigest,
  finishDigest,
  foldGrants,
  foldSessions,
  localDay,
  startDigest,
} from '../../src/domain/digest';
import type { Grant } from '../../src/domain/grant';
import type { Session } from '../../src/domain/session';
import type { DigestData } from '../../src/ports/digest-data';
import type { SessionStore } from '../../src/ports/session-store';
import { anomalies, DAY, DIGEST_NOW, fixedDayInput, grants, sessions } from '../support/digest-fixture';
import { startTestTable, type TestTable } from '../support/dynalite';
import { allPages } from '../support/pages';

let table: TestTable;
let sessionStore: SessionStore;
let reader: DigestData;
/** Every DynamoDB command the stores send, by name. */
/** Keyturn's own account and region: where sessions recorded without a place are. */
const HOME = { accountId: '123456789012', region: 'ap-northeast-1' };
const commands: string[] = [];

beforeAll(async () => {
  table = await startTestTable();
  table.documentClient.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  const opts = { documentClient: table.documentClient, tableName: table.tableName, pageSize: 2 };
  sessionStore = createDynamoSessionStore({ ...opts, home: HOME });
  reader = createDynamoDigestReader(opts);
  const anomalyLog = createDynamoAnomalyLog(opts);
  // Staged through the grant schema: the fixture holds several open grants per person, which create() refuses.
  const { grant } = createGrantEntities(createKeyturnTable(table.documentClient, table.tableName));
  for (const g of grants)
    await grant
      .build(PutItemCommand)
      .item({ ...g, ...grantIndexKeys(g) })
      .send();
  for (const s of sessions) expect(await sessionStore.save(s, 0)).toBe('saved');
  for (const a of anomalies) await anomalyLog.record(a);
  // Recording an anomaly again stores it once.
  await anomalyLog.record(anomalies[0] as (typeof anomalies)[number]);
});

afterAll(async () => {
  await table?.close();
});

const ids = (items: readonly { id: string }[]) => items.map((i) => i.id).sort();

describe('DynamoDB digest reader (byDay index)', () => {
  it('reads exactly the local day, across its two UTC partitions, every page', async () => {
    expect(ids(await allPages(reader.grantsRequested(DAY.start, DAY.end)))).toEqual([
      'g1',
      'g2',
      'g3',
      'g4',
      'g5',
      'g6',
    ]);
    expect(ids(await allPages(reader.sessionsStarted(DAY.start, DAY.end)))).toEqual([
      'alice-0000000000000000a',
      'alice-0000000000000000b',
      'bob-0000000000000000c',
      'bob-0000000000000000e',
      'mallory-0000000000000000d',
    ]);
    const dayAnomalies = await reader.anomalies(DAY.start, DAY.end);
    expect(dayAnomalies.map((a) => a.kind).sort()).toEqual([
      'orphan-policy-removed',
      'revoke-failed',
      'sessions-not-ended',
    ]);
  });

  it('hands back the stored values unchanged, and composes the same digest as the in-memory data', async () => {
    const read = await allPages(reader.sessionsStarted(DAY.start, DAY.end));
    for (const s of read) expect(s).toEqual(sessions.find((x) => x.id === s.id));
    const readGrants = await allPages(reader.grantsRequested('2026-11-22T00:00:00Z', DAY.end));
    const fromStore = composeDigest({
      ...fixedDayInput(),
      grants: readGrants,
      sessions: read,
      anomalies: await reader.anomalies(DAY.start, DAY.end),
    });
    expect(fromStore).toEqual(composeDigest(fixedDayInput()));
  });

  it('keeps the boundaries whatever the timestamps’ precision: a start at the very first millisecond counts', async () => {
    const edge: Session = {
      id: 'edge-start',
      version: 1,
      status: 'ended',
      firstSeenAt: '2026-11-20T15:00:00.000Z',
      startedAt: '2026-11-20T15:00:00.000Z',
      endedAt: '2026-11-20T15:01:00.000Z',
    };
    const before: Session = { ...edge, id: 'edge-before', startedAt: '2026-11-20T14:59:59.999Z' };
    const last: Session = { ...edge, id: 'edge-last', startedAt: '2026-11-21T14:59:59.999Z' };
    const after: Session = { ...edge, id: 'edge-after', startedAt: '2026-11-21T15:00:00.000Z' };
    for (const s of [edge, before, last, after]) await sessionStore.save(s, 0);
    const day = localDay('2026-11-21', 'Asia/Tokyo');
    expect(ids(await allPages(reader.sessionsStarted(day.start, day.end)))).toEqual([
      'edge-last',
      'edge-start',
    ]);
    // Bounds written without milliseconds (as grants' times are) select the same sessions.
    expect(
      ids(await allPages(reader.sessionsStarted('2026-11-20T15:00:00Z', '2026-11-21T15:00:00Z'))),
    ).toEqual(['edge-last', 'edge-start']);
  });

  it('never scans', async () => {
    await allPages(reader.grantsRequested(DAY.start, DAY.end));
    await allPages(reader.sessionsStarted(DAY.start, DAY.end));
    expect(commands).toContain('QueryCommand');
    expect(commands).not.toContain('ScanCommand');
  });

  it('reads grants whole from the index pages: no GetItem per grant, no Scan', async () => {
    commands.length = 0;
    const read = await allPages(reader.grantsRequested('2026-11-22T00:00:00Z', DAY.end));
    await allPages(reader.sessionsStarted(DAY.start, DAY.end));
    expect(read.length).toBeGreaterThan(2);
    for (const g of read) expect(g).toEqual(grants.find((x) => x.id === g.id));
    expect(commands.filter((c) => c !== 'QueryCommand')).toEqual([]);
  });

  it('folding the pages as they come gives the same digest as composing the whole day', async () => {
    const input = fixedDayInput();
    const tally = startDigest(input);
    let pages = 0;
    for await (const page of reader.grantsRequested('2026-11-22T00:00:00Z', DAY.end)) {
      pages++;
      foldGrants(tally, page);
    }
    for await (const page of reader.sessionsStarted(DAY.start, DAY.end)) {
      pages++;
      foldSessions(tally, page);
    }
    expect(pages).toBeGreaterThan(4);
    const folded = finishDigest(tally, { ...input, anomalies: await reader.anomalies(DAY.start, DAY.end) });
    expect(folded).toEqual(composeDigest(input));
  });

  it('claims each day’s post once', async () => {
    const at = DIGEST_NOW;
    expect(await reader.claimPost(DAY, at)).toBe(true);
    expect(await reader.claimPost(DAY, at)).toBe(false);
    expect(await reader.claimPost(localDay('2026-11-23', 'UTC'), at)).toBe(true);
  });
});

describe('DynamoDB session store', () => {
  const base: Session = {
    id: 'store-1',
    version: 1,
    status: 'active',
    firstSeenAt: '2026-11-25T10:00:00.000Z',
    owner: 'arn:aws:iam::123456789012:user/alice',
    node: { id: 'mi-0a1b2c3d4e5f60001' },
    document: 'shell',
    startedAt: '2026-11-25T10:00:00.000Z',
  };

  it('writes conditionally on the version; a new session only once', async () => {
    expect(await sessionStore.save(base, 0)).toBe('saved');
    expect(await sessionStore.save(base, 0)).toBe('stale');
    expect(await sessionStore.save({ ...base, version: 2, grantId: 'g1' }, 5)).toBe('stale');
    expect(await sessionStore.save({ ...base, version: 2, grantId: 'g1' }, 1)).toBe('saved');
    expect(await sessionStore.get('store-1')).toEqual({ ...base, version: 2, grantId: 'g1' });
  });

  it('an ended session is never written back to active, even with the right version', async () => {
    const ended: Session = {
      ...base,
      id: 'store-2',
      status: 'ended',
      endedAt: '2026-11-25T10:30:00.000Z',
      end: { kind: 'api-call', by: 'arn:aws:iam::123456789012:user/alice' },
    };
    expect(await sessionStore.save(ended, 0)).toBe('saved');
    expect(await sessionStore.save({ ...ended, status: 'active', version: 2 }, 1)).toBe('stale');
    expect((await sessionStore.get('store-2'))?.status).toBe('ended');
  });

  it('a stub no one owns (another place named its id in a TerminateSession) may become the active session it is', async () => {
    const { owner: _owner, ...unowned } = base;
    const stub: Session = {
      ...unowned,
      id: 'store-3',
      status: 'ended',
      endedAt: '2026-11-25T10:30:00.000Z',
      end: { kind: 'api-call', by: 'arn:aws:iam::777788889999:user/mallory' },
    };
    expect(await sessionStore.save(stub, 0)).toBe('saved');
    expect(await sessionStore.save({ ...base, id: 'store-3', version: 2 }, 1)).toBe('saved');
    expect((await sessionStore.get('store-3'))?.status).toBe('active');
  });

  it('lists only sessions still watched, every page; a settled one leaves the index', async () => {
    const watchedBefore = ids(await sessionStore.listWatched(HOME));
    for (let i = 0; i < 5; i++) await sessionStore.save({ ...base, id: `watch-${i}` }, 0);
    const watched = ids(await sessionStore.listWatched(HOME));
    for (let i = 0; i < 5; i++) expect(watched).toContain(`watch-${i}`);
    expect(watched.length).toBe(watchedBefore.length + 5);
    await sessionStore.save({ ...base, id: 'watch-0', version: 2, settledAt: '2026-11-25T11:00:00.000Z' }, 1);
    expect(ids(await sessionStore.listWatched(HOME))).not.toContain('watch-0');
  });

  it('watches each place apart: a session lists only in its own place; one recorded without a place is Keyturn’s own', async () => {
    const factory = { accountId: '444455556666', region: 'ap-northeast-3' };
    const factoryTokyo = { accountId: '444455556666', region: HOME.region };
    await sessionStore.save(
      { ...base, id: 'placed-factory', account: factory.accountId, region: factory.region },
      0,
    );
    await sessionStore.save({ ...base, id: 'placed-home', account: HOME.accountId, region: HOME.region }, 0);
    await sessionStore.save({ ...base, id: 'placed-legacy' }, 0);
    const home = ids(await sessionStore.listWatched(HOME));
    expect(home).toEqual(expect.arrayContaining(['placed-home', 'placed-legacy']));
    expect(home).not.toContain('placed-factory');
    expect(ids(await sessionStore.listWatched(factory))).toEqual(['placed-factory']);
    expect(ids(await sessionStore.listWatched(factoryTokyo))).toEqual([]);
    expect(await sessionStore.get('placed-factory')).toMatchObject({
      account: factory.accountId,
      region: factory.region,
    });
  });

  it('keeps the History cursor, one per place', async () => {
    const factory = { accountId: '444455556666', region: 'ap-northeast-3' };
    expect(await sessionStore.historyCursor(HOME)).toBeUndefined();
    await sessionStore.setHistoryCursor(HOME, '2026-11-25T10:00:00.000Z');
    expect(await sessionStore.historyCursor(HOME)).toBe('2026-11-25T10:00:00.000Z');
    expect(await sessionStore.historyCursor(factory)).toBeUndefined();
    await sessionStore.setHistoryCursor(factory, '2026-11-25T10:05:00.000Z');
    expect(await sessionStore.historyCursor(factory)).toBe('2026-11-25T10:05:00.000Z');
    expect(await sessionStore.historyCursor(HOME)).toBe('2026-11-25T10:00:00.000Z');
  });

  it('a session known only from its end is indexed by its end until its start is known', async () => {
    const stub: Session = {
      id: 'stub-1',
      version: 1,
      status: 'ended',
      firstSeenAt: '2026-11-26T01:00:00.000Z',
      endedAt: '2026-11-26T01:00:00.000Z',
      end: { kind: 'api-call', by: 'arn:aws:iam::123456789012:user/alice' },
    };
    await sessionStore.save(stub, 0);
    const day = localDay('2026-11-26', 'UTC');
    // Not a started session yet: the digest counts sessions by their start.
    expect(ids(await allPages(reader.sessionsStarted(day.start, day.end)))).not.toContain('stub-1');
    await sessionStore.save({ ...stub, version: 2, startedAt: '2026-11-26T00:40:00.000Z' }, 1);
    expect(ids(await allPages(reader.sessionsStarted(day.start, day.end)))).toContain('stub-1');
  });
});

it('the grant fixture is what the reader gives back (grants read whole from the index)', async () => {
  const read = await allPages(reader.grantsRequested(DAY.start, DAY.end));
  expect(read.find((g) => g.id === 'g1')).toEqual(grants.find((g) => g.id === 'g1') as Grant);
});
