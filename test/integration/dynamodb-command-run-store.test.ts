import { QueryCommand } from 'dynamodb-toolbox';
import { createRunEntities } from '../../src/adapters/dynamodb/command-run-entity';
import { createDynamoCommandRunStore } from '../../src/adapters/dynamodb/command-run-store';
import { createKeyturnTable } from '../../src/adapters/dynamodb/table';
import type { CommandRun, NodeResult } from '../../src/domain/command-run';
import type { CommandRunStore } from '../../src/ports/command-run-store';
import { startTestTable, type TestTable } from '../support/dynalite';
import { queuedRun } from '../support/stored-records';

let table: TestTable;
let store: CommandRunStore;

beforeAll(async () => {
  table = await startTestTable();
  store = createDynamoCommandRunStore({
    documentClient: table.documentClient,
    tableName: table.tableName,
    pageSize: 2,
  });
});

afterAll(async () => {
  await table?.close();
});

let seq = 0;
const uniqueId = () => `r-${++seq}`;

function aRun(overrides: Partial<CommandRun> = {}): CommandRun {
  return queuedRun({ id: uniqueId(), ...overrides });
}

const result = (nodeId: string, extra: Partial<NodeResult> = {}): NodeResult => ({
  nodeId,
  outcome: 'succeeded',
  status: 'Success',
  exitCode: 0,
  stdout: 'ok',
  stdoutChars: 2,
  stderr: '',
  stderrChars: 0,
  ...extra,
});

describe('DynamoDB command run store', () => {
  it('stores a run and reads back exactly what was written, every optional field included', async () => {
    const minimal = aRun();
    expect(await store.create(minimal)).toEqual({ ok: true });
    expect(await store.get(minimal.id)).toEqual(minimal);

    const full = aRun({
      requestKey: `trigger-${seq}`,
      status: 'finished',
      approvals: [{ by: 'U0CAROL', at: '2026-11-23T23:59:40Z' }],
      decidedBy: 'U0CAROL',
      decidedAt: '2026-11-23T23:59:40Z',
      nodes: [
        { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
        { id: 'mi-0a1b2c3d4e5f60003', ping: 'ConnectionLost' },
      ],
      message: { channel: 'C0WORK', ts: '1.1' },
      card: { channel: 'C0APPROVALS', ts: '1.2' },
      executionTimeoutSeconds: 60,
      maxConcurrency: '50%',
      maxErrors: '0',
      sendingAt: '2026-11-23T23:59:41.123Z',
      commandId: 'cmd-full',
      sentAt: '2026-11-23T23:59:42Z',
      expiresAt: '2026-11-24T01:06:42Z',
      finishedAt: '2026-11-24T00:00:10Z',
      end: 'completed',
      failureReason: 'none',
      counts: { succeeded: 1, undeliverable: 1 },
      simulated: true,
      needsApproval: true,
    });
    expect(await store.create(full)).toEqual({ ok: true });
    expect(await store.get(full.id)).toEqual(full);
    expect(await store.get('missing')).toBeUndefined();
  });

  it('refuses a taken id', async () => {
    const run = aRun();
    await store.create(run);
    expect(await store.create({ ...run, snippet: 'disk' })).toEqual({ ok: false, reason: 'id-taken' });
    expect((await store.get(run.id))?.snippet).toBe('logs');
  });

  it('a second run with the same request key is refused as a duplicate and not kept', async () => {
    const first = aRun({ requestKey: 'trigger-dup' });
    const retry = aRun({ requestKey: 'trigger-dup' });
    expect(await store.create(first)).toEqual({ ok: true });
    expect(await store.create(retry)).toEqual({ ok: false, reason: 'duplicate-request', existing: first });
    expect(await store.get(retry.id)).toBeUndefined();
  });

  it('concurrent creates with one request key: exactly one wins', async () => {
    const runs = Array.from({ length: 8 }, () => aRun({ requestKey: 'trigger-race' }));
    const outcomes = await Promise.all(runs.map((r) => store.create(r)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const winner = runs[outcomes.findIndex((o) => o.ok)];
    for (const o of outcomes.filter((x) => !x.ok))
      expect(o).toEqual({ ok: false, reason: 'duplicate-request', existing: winner });
  });

  it('saves only over the version it read', async () => {
    const run = aRun();
    await store.create(run);
    const next = { ...run, status: 'sending' as const, version: 2, sendingAt: '2026-11-23T23:59:50Z' };
    expect(await store.save(next, 1)).toBe('saved');
    expect(await store.save({ ...run, status: 'sending', version: 2 }, 1)).toBe('stale');
    expect(await store.get(run.id)).toEqual(next);
  });

  it('finds a run by its SSM command id once it is saved with one', async () => {
    const run = aRun();
    await store.create(run);
    expect(await store.findByCommandId('cmd-find')).toBeUndefined();
    const running = { ...run, status: 'running' as const, version: 2, commandId: 'cmd-find' };
    await store.save(running, 1);
    expect(await store.findByCommandId('cmd-find')).toEqual(running);
  });

  it('records each node once, lists them, and claims each post once', async () => {
    const run = aRun();
    await store.create(run);
    expect(
      await store.recordNode(run.id, result('mi-1', { stdoutLocation: 's3://x', statusDetails: 'Success' })),
    ).toBe(true);
    expect(await store.recordNode(run.id, result('mi-1', { outcome: 'failed' }))).toBe(false);
    await store.recordNode(run.id, result('mi-2', { exitCode: -1, outcome: 'undeliverable' }));
    await store.recordNode(run.id, result('mi-3'));
    // A node result carrying postedAt is recorded unposted: only claimNodePost sets it.
    await store.recordNode(run.id, result('mi-4', { postedAt: '2026-11-23T23:59:59Z' }));
    const results = await store.nodeResults(run.id);
    expect(results.map((r) => [r.nodeId, r.outcome, r.postedAt])).toEqual([
      ['mi-1', 'succeeded', undefined],
      ['mi-2', 'undeliverable', undefined],
      ['mi-3', 'succeeded', undefined],
      ['mi-4', 'succeeded', undefined],
    ]);
    expect(results[0]).toEqual(result('mi-1', { stdoutLocation: 's3://x', statusDetails: 'Success' }));

    const claims = await Promise.all(
      Array.from({ length: 5 }, () => store.claimNodePost(run.id, 'mi-1', '2026-11-24T00:00:00Z')),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimNodePost(run.id, 'mi-unrecorded', '2026-11-24T00:00:00Z')).toBe(false);
    expect((await store.nodeResults(run.id)).map((r) => r.postedAt)).toEqual([
      '2026-11-24T00:00:00Z',
      undefined,
      undefined,
      undefined,
    ]);
    // The unrecorded node's claim did not create an item.
    expect((await store.nodeResults(run.id)).map((r) => r.nodeId)).toEqual(['mi-1', 'mi-2', 'mi-3', 'mi-4']);
    // The run itself is untouched by its node items.
    expect(await store.get(run.id)).toEqual(run);
  });

  it('claims a one-time effect once', async () => {
    const run = aRun();
    await store.create(run);
    expect(await store.claimEffect(run.id, 'message', '2026-11-24T00:00:00Z')).toBe(true);
    expect(await store.claimEffect(run.id, 'message', '2026-11-24T00:00:01Z')).toBe(false);
    expect(await store.claimEffect(run.id, 'card', '2026-11-24T00:00:01Z')).toBe(true);
  });

  it('lists the runs of a UTC day through the byDay index, all pages, oldest first, and nothing else', async () => {
    const day = '2026-12-01';
    const runs = [
      aRun({ requestedAt: `${day}T00:00:00Z` }),
      aRun({ requestedAt: `${day}T12:00:00Z` }),
      aRun({ requestedAt: `${day}T23:59:59Z` }),
      aRun({ requestedAt: '2026-12-02T00:00:00Z' }),
    ];
    for (const r of [...runs].reverse()) await store.create(r);
    await store.recordNode(runs[0]!.id, result('mi-1'));
    expect((await store.listByDay(day)).map((r) => r.id)).toEqual(runs.slice(0, 3).map((r) => r.id));

    // The index attributes, as the digest reads them.
    const entities = createRunEntities(createKeyturnTable(table.documentClient, table.tableName));
    const { Items = [] } = await entities.run.table
      .build(QueryCommand)
      .entities(entities.run)
      .query({ index: 'byDay', partition: 'DAY#2026-12-02' })
      .send();
    expect(Items.map((i) => i.id)).toEqual([runs[3]!.id]);
  });
});
