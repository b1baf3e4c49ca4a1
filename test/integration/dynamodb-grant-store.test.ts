import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetItemCommand, PutItemCommand, QueryCommand } from 'dynamodb-toolbox';
import { createGrantEntities } from '../../src/adapters/dynamodb/grant-entity';
import { createDynamoGrantStore } from '../../src/adapters/dynamodb/grant-store';
import { ensureTable } from '../../src/adapters/dynamodb/local';
import { createKeyturnTable } from '../../src/adapters/dynamodb/table';
import { type Grant, type GrantStatus, transition } from '../../src/domain/grant';
import type { GrantStore } from '../../src/ports/grant-store';
import { startTestTable, type TestTable } from '../support/dynalite';
import { pendingGrant } from '../support/stored-records';

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
  return pendingGrant({ id: uniqueId(), ...overrides });
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
  it.each<[string, Grant['principal']]>([
    [
      'an access role with its pinned session name',
      { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
    ],
    ['a directly attached IAM user with a path', { kind: 'user', name: 'erin', path: '/engineering/' }],
    [
      'a directly attached IAM user without a path (grants stored before access roles)',
      { kind: 'user', name: 'alice' },
    ],
  ])('keeps the principal: %s', async (_what, principal) => {
    const grant = aGrant({ requester: uniqueRequester(), principal });
    expect(await store.create(grant)).toEqual({ ok: true });
    expect((await store.get(grant.id))?.principal).toStrictEqual(principal);
  });

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

describe('the fields of ending, extending and revoking', () => {
  it('round-trips every one of them, nested optionals included', async () => {
    const grant = aGrant({
      requester: uniqueRequester(),
      status: 'active',
      version: 7,
      startsAt: '2025-03-05T00:01:00Z',
      expiresAt: '2025-03-05T01:01:00Z',
      policyArn: 'arn:aws:iam::123456789012:policy/keyturn/keyturn-g',
      ending: { status: 'revoked', by: 'UREVOKER', at: '2025-03-05T00:30:00Z', reason: 'done early' },
      revokeLease: '2025-03-05T00:32:00Z',
      extension: {
        minutes: 30,
        requestedBy: 'U000000',
        requestedAt: '2025-03-05T00:50:00Z',
        approvals: [
          { by: 'UAPPROVER', at: '2025-03-05T00:51:00Z' },
          { by: 'UAPPROVER2', at: '2025-03-05T00:52:00Z' },
        ],
        state: 'denied',
        newExpiresAt: '2025-03-05T01:31:00Z',
        decidedBy: 'UAPPROVER2',
        decidedAt: '2025-03-05T00:52:00Z',
        denyReason: 'not tonight',
        card: { channel: 'C123', ts: '1741135800.000200' },
      },
      extendedMinutes: 90,
      runAsSet: 'pi-ops',
      sessionsEnded: 2,
      history: [
        { at: '2025-03-04T23:59:30Z', from: null, to: 'pending', by: 'U000000' },
        {
          at: '2025-03-05T00:50:00Z',
          from: 'active',
          to: 'active',
          by: 'U000000',
          event: 'extension-requested',
        },
        {
          at: '2025-03-05T00:52:00Z',
          from: 'active',
          to: 'active',
          by: 'UAPPROVER2',
          event: 'extension-denied',
          note: 'not tonight',
        },
      ],
    });

    expect(await store.create(grant)).toEqual({ ok: true });

    expect(await store.get(grant.id)).toStrictEqual(grant);
  });

  it('keeps absent the optionals of an ending and an extension that were never set', async () => {
    const grant = aGrant({
      requester: uniqueRequester(),
      status: 'active',
      expiresAt: '2025-03-05T01:01:00Z',
    });
    await store.create(grant);
    const next = move(grant, 'active', {
      ending: { status: 'expired', by: 'keyturn', at: '2025-03-05T01:01:00Z' },
      extension: {
        minutes: 15,
        requestedBy: 'U000000',
        requestedAt: '2025-03-05T00:50:00Z',
        approvals: [],
        state: 'pending',
      },
      extendedMinutes: 0,
      sessionsEnded: 0,
    });

    expect(await store.save(next, grant.version)).toBe('saved');

    // Strict: `reason`, `card` and the rest must not come back as `undefined`, and zeros stay zeros.
    expect(await store.get(grant.id)).toStrictEqual(next);
  });
});

describe('listByStatus and listByRequester', () => {
  // A table of their own: the lists are compared whole, so no other test's grants may be in them.
  let own: TestTable;
  let listing: GrantStore;
  let paged: GrantStore;
  const queries: { Limit?: number }[] = [];

  beforeAll(async () => {
    own = await startTestTable();
    listing = createDynamoGrantStore({ documentClient: own.documentClient, tableName: own.tableName });
    paged = createDynamoGrantStore({
      documentClient: own.documentClient,
      tableName: own.tableName,
      pageSize: 4,
    });
    own.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') queries.push({ ...(args.input as { Limit?: number }) });
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
  });

  afterAll(async () => {
    await own?.close();
  });

  beforeEach(() => {
    queries.length = 0;
  });

  const at = (minute: number) => `2025-06-01T10:${String(minute).padStart(2, '0')}:00Z`;

  it('lists a status by due time, up to dueBy inclusive: ending.at, else expiresAt, else requestedAt', async () => {
    const requester = uniqueRequester();
    const expiring = aGrant({ requester, target: 't-expiring', status: 'active', expiresAt: at(40) });
    // Expires later, but its ending (a release) was decided at :20, so it is due then.
    const ending = aGrant({
      requester,
      target: 't-ending',
      status: 'active',
      expiresAt: at(50),
      ending: { status: 'released', by: requester, at: at(20) },
    });
    const pending = aGrant({ requester, target: 't-pending', requestedAt: at(5) });
    for (const grant of [expiring, ending, pending])
      expect(await listing.create(grant)).toEqual({ ok: true });

    const ids = async (dueBy?: string) =>
      (await listing.listByStatus('active', dueBy === undefined ? {} : { dueBy })).map((g) => g.id);

    expect(await ids(at(19))).toEqual([]);
    expect(await ids(at(20))).toEqual([ending.id]);
    expect(await ids(at(39))).toEqual([ending.id]);
    expect(await ids(at(40))).toEqual([ending.id, expiring.id]);
    expect(await ids()).toEqual([ending.id, expiring.id]);
    expect((await listing.listByStatus('pending', { dueBy: at(5) })).map((g) => g.id)).toEqual([pending.id]);
    expect(await listing.listByStatus('pending', { dueBy: at(4) })).toEqual([]);
    expect(await listing.listByStatus('revoked')).toEqual([]);
    // Whole grants, as stored, not index projections.
    expect(await listing.listByStatus('active', { dueBy: at(20) })).toStrictEqual([ending]);
  });

  it('moves a grant into the due list when its ending is written', async () => {
    const requester = uniqueRequester();
    const grant = aGrant({ requester, target: 't-revoke', status: 'active', version: 3, expiresAt: at(55) });
    await listing.create(grant);
    expect((await listing.listByStatus('active', { dueBy: at(30) })).map((g) => g.id)).not.toContain(
      grant.id,
    );

    const ending = move(grant, 'active', { ending: { status: 'revoked', by: 'UADMIN', at: at(30) } });
    expect(await listing.save(ending, grant.version)).toBe('saved');

    expect((await listing.listByStatus('active', { dueBy: at(30) })).map((g) => g.id)).toContain(grant.id);
  });

  it('reads every page of a status', async () => {
    const requester = uniqueRequester();
    const grants = Array.from({ length: 30 }, (_, i) =>
      aGrant({ requester, target: `t-page-${i}`, status: 'lapsed', requestedAt: at(i) }),
    );
    for (const grant of grants) await paged.create(grant);
    queries.length = 0;

    const listed = await paged.listByStatus('lapsed');

    expect(listed.map((g) => g.id)).toEqual(grants.map((g) => g.id));
    // 30 grants at 4 a page: 8 pages (the last one short), each asked for with the page size.
    expect(queries).toHaveLength(8);
    expect(queries.every((q) => q.Limit === 4)).toBe(true);
  });

  it("lists a requester's grants newest first, every page, and no one else's", async () => {
    const requester = uniqueRequester();
    const grants = Array.from({ length: 10 }, (_, i) =>
      aGrant({ requester, target: `t-mine-${i}`, status: i % 2 ? 'denied' : 'pending', requestedAt: at(i) }),
    );
    for (const grant of grants) await paged.create(grant);
    await paged.create(aGrant({ requester: uniqueRequester(), target: 't-theirs', requestedAt: at(30) }));
    queries.length = 0;

    const listed = await paged.listByRequester(requester);

    expect(listed.map((g) => g.id)).toEqual(grants.map((g) => g.id).reverse());
    expect(listed[0]).toStrictEqual(grants[9]);
    expect(queries).toHaveLength(3);
    expect(await paged.listByRequester('UNOBODY')).toEqual([]);
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

describe('request keys (Slack trigger_id)', () => {
  it('refuses a second grant with the same request key, even after the first was cancelled', async () => {
    const requester = uniqueRequester();
    const first = aGrant({ requester, requestKey: 'trigger-replayed' });
    expect(await store.create(first)).toEqual({ ok: true });
    await saveThrough(first, 'cancelled');

    const replay = aGrant({ requester, requestKey: 'trigger-replayed' });
    const outcome = await store.create(replay);

    expect(outcome).toMatchObject({ ok: false, reason: 'duplicate-request', existing: { id: first.id } });
    expect(await store.get(replay.id)).toBeUndefined();
    expect((await store.listByRequester(requester)).map((g) => g.id)).toEqual([first.id]);
  });

  it('refuses a replay of a request that was itself refused, keeping nothing', async () => {
    const requester = uniqueRequester();
    const open = aGrant({ requester });
    expect(await store.create(open)).toEqual({ ok: true });
    const refused = aGrant({ requester, requestKey: 'trigger-refused' });
    expect(await store.create(refused)).toMatchObject({ ok: false, reason: 'open-grant-exists' });
    await saveThrough(open, 'cancelled');

    const replay = aGrant({ requester, requestKey: 'trigger-refused' });
    expect(await store.create(replay)).toEqual({ ok: false, reason: 'duplicate-request' });
    expect(await store.get(replay.id)).toBeUndefined();
  });

  it('stores the request key with the grant', async () => {
    const grant = aGrant({ requester: uniqueRequester(), requestKey: 'trigger-kept' });
    await store.create(grant);
    expect((await store.get(grant.id))?.requestKey).toBe('trigger-kept');
  });
});
