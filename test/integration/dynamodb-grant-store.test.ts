import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetItemCommand, PutItemCommand, QueryCommand } from 'dynamodb-toolbox';
import { createDynamoGrantStore, createGrantEntities } from '../../src/adapters/dynamodb/grant-store';
import { ensureTable } from '../../src/adapters/dynamodb/local';
import { createKeyturnTable } from '../../src/adapters/dynamodb/table';
import { type Grant, type GrantStatus, transition } from '../../src/domain/grant';
import type { GrantStore } from '../../src/ports/grant-store';
import { startTestTable, type TestTable } from '../support/dynalite';

let table: TestTable;
let store: GrantStore;
let entities: ReturnType<typeof createGrantEntities>;

beforeAll(async () => {
  table = await startTestTable();
  store = createDynamoGrantStore({ documentClient: table.documentClient, tableName: table.tableName });
  entities = createGrantEntities(createKeyturnTable(table.documentClient, table.tableName));
});

afterAll(async () => {
  await table?.close();
});

// Tests share one table: each takes its own requester so slots never collide across tests.
let seq = 0;
const uniqueRequester = () => `U${String(++seq).padStart(6, '0')}`;
const uniqueId = () => `g-${++seq}`;

function aGrant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: uniqueId(),
    requester: 'U000000',
    principal: { kind: 'user', name: 'alice' },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'rotate the disk',
    status: 'pending',
    version: 1,
    requestedAt: '2025-03-04T23:59:30Z',
    approvals: [],
    history: [{ at: '2025-03-04T23:59:30Z', from: null, to: 'pending', by: 'U000000' }],
    ...overrides,
  };
}

function move(grant: Grant, to: GrantStatus, set: Parameters<typeof transition>[2]['set'] = {}): Grant {
  const result = transition(grant, to, { at: '2025-03-05T00:01:00Z', by: 'UAPPROVER', set });
  if (!result.ok) throw new Error(`test setup: ${grant.status} -> ${to} is not a legal move`);
  return result.value;
}

/** Walks a stored grant through legal moves, saving each, and returns the last version stored. */
async function saveThrough(grant: Grant, ...path: GrantStatus[]): Promise<Grant> {
  let current = grant;
  for (const to of path) {
    const next = move(
      current,
      to,
      to === 'approved' ? { startsAt: '2025-03-05T00:01:00Z', expiresAt: '2025-03-05T01:01:00Z' } : {},
    );
    expect(await store.save(next, current.version)).toBe('saved');
    current = next;
  }
  return current;
}

async function slotHolder(requester: string, target: string): Promise<string | undefined> {
  const { Item } = await entities.openSlot.build(GetItemCommand).key({ requester, target }).send();
  return Item?.grantId;
}

/** What the sweeper will ask: grants in a status whose index time (expiry once set) is at or before `upTo`. */
async function idsWithStatus(status: GrantStatus, upTo = '2025-03-05T02:00:00Z'): Promise<string[]> {
  const { Items = [] } = await entities.grant.table
    .build(QueryCommand)
    .entities(entities.grant)
    .query({ index: 'byStatus', partition: `STATUS#${status}`, range: { lte: upTo } })
    .send();
  return Items.map((grant) => grant.id);
}

describe('create and get', () => {
  it('returns exactly the grant that was stored, optional fields and all', async () => {
    const full = aGrant({
      requester: uniqueRequester(),
      principal: { kind: 'role', name: 'ops-break-glass' },
      status: 'active',
      version: 4,
      approvals: [{ by: 'UAPPROVER', at: '2025-03-05T00:01:00Z' }],
      startsAt: '2025-03-05T00:01:00Z',
      expiresAt: '2025-03-05T01:01:00Z',
      policyArn: 'arn:aws:iam::123456789012:policy/keyturn/g-1',
      decidedBy: 'UAPPROVER',
      decidedAt: '2025-03-05T00:01:00Z',
      card: { channel: 'C123', ts: '1741132770.000100' },
      history: [
        { at: '2025-03-04T23:59:30Z', from: null, to: 'pending', by: 'U1' },
        { at: '2025-03-05T00:01:00Z', from: 'pending', to: 'approved', by: 'UAPPROVER', note: 'ok for 1h' },
      ],
    });
    const minimal = aGrant({ requester: uniqueRequester() });

    expect(await store.create(full)).toEqual({ ok: true });
    expect(await store.create(minimal)).toEqual({ ok: true });

    // Strict: an optional field that was absent must not come back as `undefined`.
    expect(await store.get(full.id)).toStrictEqual(full);
    expect(await store.get(minimal.id)).toStrictEqual(minimal);
  });

  it('returns undefined for an unknown id', async () => {
    expect(await store.get('no-such-grant')).toBeUndefined();
  });

  it('refuses a second open grant for the same requester and target, naming the existing one', async () => {
    const requester = uniqueRequester();
    const first = aGrant({ requester });
    const second = aGrant({ requester });

    expect(await store.create(first)).toEqual({ ok: true });
    expect(await store.create(second)).toEqual({ ok: false, reason: 'open-grant-exists', existing: first });
    // The refused grant leaves no trace.
    expect(await store.get(second.id)).toBeUndefined();
  });

  it('allows the same requester on another target and another requester on the same target', async () => {
    const requester = uniqueRequester();
    expect(await store.create(aGrant({ requester, target: 'prod-raspi' }))).toEqual({ ok: true });
    expect(await store.create(aGrant({ requester, target: 'staging-box' }))).toEqual({ ok: true });
    expect(await store.create(aGrant({ requester: uniqueRequester(), target: 'prod-raspi' }))).toEqual({
      ok: true,
    });
  });

  it.each([
    ['denied', ['denied']],
    ['expired', ['approved', 'active', 'expired']],
  ] as const)('frees the slot once the open grant is %s', async (_closed, path) => {
    const requester = uniqueRequester();
    const first = aGrant({ requester });
    expect(await store.create(first)).toEqual({ ok: true });

    const open = await saveThrough(first, ...path.slice(0, -1));
    expect(await store.create(aGrant({ requester }))).toMatchObject({ reason: 'open-grant-exists' });
    await saveThrough(open, ...path.slice(-1));

    // Released, not merely overridable: the slot item itself is gone.
    expect(await slotHolder(requester, first.target)).toBeUndefined();
    expect(await store.create(aGrant({ requester }))).toEqual({ ok: true });
  });

  it('leaves a slot alone when closing a grant it no longer names', async () => {
    const requester = uniqueRequester();
    const grant = aGrant({ requester });
    expect(await store.create(grant)).toEqual({ ok: true });
    // As if a takeover had already handed the slot on to another grant.
    await entities.openSlot
      .build(PutItemCommand)
      .item({ requester, target: grant.target, grantId: 'successor' })
      .send();

    await saveThrough(grant, 'denied');

    expect(await slotHolder(requester, grant.target)).toBe('successor');
  });

  it('lets exactly one of 20 concurrent requests for the same requester and target through', async () => {
    const requester = uniqueRequester();
    const grants = Array.from({ length: 20 }, () => aGrant({ requester }));

    const outcomes = await Promise.all(grants.map((grant) => store.create(grant)));

    const winners = grants.filter((_, i) => outcomes[i]?.ok);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    for (const outcome of outcomes.filter((o) => !o.ok)) {
      expect(outcome).toEqual({ ok: false, reason: 'open-grant-exists', existing: winner });
    }
    const stored = await Promise.all(grants.map((grant) => store.get(grant.id)));
    expect(stored.filter((grant) => grant !== undefined).map((grant) => grant.id)).toEqual([winner.id]);
  });

  it('takes over a slot whose grant does not exist', async () => {
    const requester = uniqueRequester();
    // A slot naming a grant that is not stored (e.g. deleted by hand): nothing holds the target.
    await entities.openSlot
      .build(PutItemCommand)
      .item({ requester, target: 'prod-raspi', grantId: 'vanished' })
      .send();

    const grant = aGrant({ requester });
    expect(await store.create(grant)).toEqual({ ok: true });
    // The slot now guards the new grant.
    expect(await store.create(aGrant({ requester }))).toEqual({
      ok: false,
      reason: 'open-grant-exists',
      existing: grant,
    });
  });

  it('takes over a slot whose grant closed without releasing it', async () => {
    const requester = uniqueRequester();
    const first = aGrant({ requester });
    expect(await store.create(first)).toEqual({ ok: true });
    await saveThrough(first, 'cancelled');
    // Simulates a crash between the closing save and its slot release.
    await entities.openSlot
      .build(PutItemCommand)
      .item({ requester, target: first.target, grantId: first.id })
      .send();

    expect(await store.create(aGrant({ requester }))).toEqual({ ok: true });
  });

  it('reports a taken id without touching the stored grant or claiming a slot', async () => {
    const original = aGrant({ requester: uniqueRequester() });
    expect(await store.create(original)).toEqual({ ok: true });

    const requester = uniqueRequester();
    const clash = aGrant({ id: original.id, requester, target: 'staging-box' });
    expect(await store.create(clash)).toEqual({ ok: false, reason: 'id-taken' });

    expect(await store.get(original.id)).toStrictEqual(original);
    expect(await store.create(aGrant({ requester, target: 'staging-box' }))).toEqual({ ok: true });
  });
});

describe('save', () => {
  it('writes the whole grant, history included, when the version matches', async () => {
    const grant = aGrant({ requester: uniqueRequester() });
    await store.create(grant);
    const next = move(grant, 'approved', {
      approvals: [{ by: 'UAPPROVER', at: '2025-03-05T00:01:00Z' }],
      startsAt: '2025-03-05T00:01:00Z',
      expiresAt: '2025-03-05T01:01:00Z',
    });

    expect(await store.save(next, grant.version)).toBe('saved');

    const stored = await store.get(grant.id);
    expect(stored).toStrictEqual(next);
    expect(stored?.history.map((entry) => entry.to)).toEqual(['pending', 'approved']);
  });

  it('refuses a stale version and changes nothing', async () => {
    const grant = aGrant({ requester: uniqueRequester() });
    await store.create(grant);
    expect(await store.save(move(grant, 'approved'), grant.version)).toBe('saved');

    // A second writer that read version 1 too.
    expect(await store.save(move(grant, 'denied'), grant.version)).toBe('stale');

    expect((await store.get(grant.id))?.status).toBe('approved');
  });

  it('refuses a save for a grant that was never created', async () => {
    const ghost = aGrant({ requester: uniqueRequester() });
    expect(await store.save(move(ghost, 'denied'), ghost.version)).toBe('stale');
    expect(await store.get(ghost.id)).toBeUndefined();
  });

  it('lets exactly one of 20 concurrent saves from the same read version win', async () => {
    const grant = aGrant({ requester: uniqueRequester() });
    await store.create(grant);
    const candidates = Array.from({ length: 20 }, (_, i) =>
      move(grant, 'pending', { approvals: [{ by: `UAPPROVER${i}`, at: '2025-03-05T00:01:00Z' }] }),
    );

    const results = await Promise.all(candidates.map((next) => store.save(next, grant.version)));

    expect(results.filter((r) => r === 'saved')).toHaveLength(1);
    const winner = candidates[results.indexOf('saved')];
    expect(await store.get(grant.id)).toStrictEqual(winner);
  });
});

describe('claimEffect', () => {
  it('grants a claim once across 20 concurrent attempts', async () => {
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.claimEffect('g-effects', 'dm-requester', `2025-03-05T00:00:${String(i).padStart(2, '0')}Z`),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('keeps effects of different names and different grants apart', async () => {
    expect(await store.claimEffect('g-effects-2', 'post-card', '2025-03-05T00:00:00Z')).toBe(true);
    expect(await store.claimEffect('g-effects-2', 'post-card', '2025-03-05T00:00:01Z')).toBe(false);
    expect(await store.claimEffect('g-effects-2', 'dm-requester', '2025-03-05T00:00:00Z')).toBe(true);
    expect(await store.claimEffect('g-effects-3', 'post-card', '2025-03-05T00:00:00Z')).toBe(true);
  });

  it('does not disturb the grant stored in the same partition', async () => {
    const grant = aGrant({ requester: uniqueRequester() });
    await store.create(grant);
    expect(await store.claimEffect(grant.id, 'post-card', '2025-03-05T00:00:00Z')).toBe(true);
    expect(await store.get(grant.id)).toStrictEqual(grant);
  });
});

describe('index attributes', () => {
  it('lists a grant under its current status only, sorted by expiry once active', async () => {
    const grant = aGrant({ requester: uniqueRequester() });
    await store.create(grant);
    expect(await idsWithStatus('pending')).toContain(grant.id);

    const active = await saveThrough(grant, 'approved', 'active');
    expect(await idsWithStatus('active')).toContain(grant.id);
    expect(await idsWithStatus('pending')).not.toContain(grant.id);
    // Active grants sort by expiresAt (01:01): not yet due a minute before, due at it.
    expect(await idsWithStatus('active', '2025-03-05T01:00:00Z')).not.toContain(grant.id);
    expect(await idsWithStatus('active', active.expiresAt)).toContain(grant.id);

    await saveThrough(active, 'revoked');
    expect(await idsWithStatus('active')).not.toContain(grant.id);
    expect(await idsWithStatus('revoked')).toContain(grant.id);
  });
});

describe('index attributes on the stored item', () => {
  it('follows the grant through each save', async () => {
    const requester = uniqueRequester();
    const grant = aGrant({ requester });
    await store.create(grant);
    const approved = await saveThrough(grant, 'approved');

    const { Item } = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `GRANT#${grant.id}`, sk: 'GRANT' } }),
    );
    expect(Item).toMatchObject({
      gsi1pk: 'STATUS#approved',
      gsi1sk: approved.expiresAt,
      // The UTC day of the request (23:59:30Z on the 4th), not of the approval on the 5th.
      gsi2pk: 'DAY#2025-03-04',
      gsi2sk: grant.requestedAt,
      gsi3pk: `REQUESTER#${requester}`,
      gsi3sk: grant.requestedAt,
    });
  });
});

describe('ensureTable', () => {
  it('is a no-op on a table that already exists', async () => {
    await expect(ensureTable(table.client, table.tableName)).resolves.toBeUndefined();
    // The table, and what is in it, survived.
    const grant = aGrant({ requester: uniqueRequester() });
    expect(await store.create(grant)).toEqual({ ok: true });
    expect(await store.get(grant.id)).toStrictEqual(grant);
  });
});
