import { ACTION_EXTENSION_APPROVE, ACTION_EXTEND, ACTION_RELEASE } from '../../src/adapters/slack/action-ids';
import { randomUUID } from 'node:crypto';
import { createDynamoGrantStore } from '../../src/adapters/dynamodb/grant-store';
import { createDynamoSessionStore } from '../../src/adapters/dynamodb/session-store';
import { sweep } from '../../src/app/sweep';
import { startTestTable, type TestTable } from '../support/dynalite';
import { ManualClock, prodRaspi, testConfig } from '../support/fakes';
import { approve, drain } from '../support/grant-scenarios';
import { FACTORY, FACTORY_NODE, FRANKFURT, HOME, type Organisation, organisation } from '../support/places';
import { type Harness, startHarness, textOf } from '../support/harness';

// keyturn.example.yml maps alice to her access role (src/domain/person.ts).
const ALICE = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' } as const;
const RASPI = 'mi-0a1b2c3d4e5f60001';
const STAGING = 'i-0123456789abcdef0';

describe('ending access over the real HTTP server', () => {
  let h: Harness;
  let clock: ManualClock;
  beforeEach(async () => {
    // Slack signatures are checked against real time; the grant's own clock is the one we move.
    clock = new ManualClock(new Date());
    const config = testConfig();
    const stagingWeb = {
      ...prodRaspi,
      name: 'staging-web',
      tags: { Fleet: 'staging-web' },
      documents: ['shell' as const],
    };
    h = await startHarness({
      clock,
      config: { ...config, targets: { ...config.targets, 'staging-web': stagingWeb } },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  const dm = (needle: string) =>
    h.slack.api
      .dmsTo('U0ALICE')
      .map(textOf)
      .filter((t) => t.includes(needle));

  it('expiry: one sweep removes the policy, ends the open session, and tells alice and the card', async () => {
    const { grantId, grant } = await h.activeGrant();
    const session = await h.account.startSession(ALICE, RASPI);
    expect(session.ok).toBe(true);
    expect(await h.account.evaluate(ALICE, RASPI)).toBe('allowed');

    clock.set(grant.expiresAt as string);
    clock.advance(1_000);
    const report = await sweep(h.keyturn.deps);
    await h.keyturn.queue.idle();

    expect(report.ended).toBe(1);
    expect(await h.keyturn.deps.grants.get(grantId)).toMatchObject({ status: 'expired', sessionsEnded: 1 });
    expect(h.account.attachedPolicies(ALICE)).toEqual([]);
    expect(h.account.policyArns().filter((a) => a.includes('/keyturn/'))).toEqual([]);
    expect(await h.account.activeSessions()).toEqual([]);
    expect(await h.account.evaluate(ALICE, RASPI)).toBe('denied');
    expect(textOf(h.slack.api.messagesIn('C0APPROVALS')[0])).toMatch(/Expired/);

    // A second sweep finds nothing more to do.
    expect((await sweep(h.keyturn.deps)).ended).toBe(0);
  });

  it('warns once before expiry, with Extend and I’m done', async () => {
    const { grant } = await h.activeGrant();
    clock.set(grant.expiresAt as string);
    clock.advance(-5 * 60_000);
    await sweep(h.keyturn.deps);
    await sweep(h.keyturn.deps);
    const warnings = h.slack.api
      .dmsTo('U0ALICE')
      .filter((m) => m.text.startsWith('Your access to prod-raspi'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.blocks)).toContain(ACTION_EXTEND);
    expect(JSON.stringify(warnings[0]?.blocks)).toContain(ACTION_RELEASE);
  });

  it('/access done ends access now; sessions on another fleet and of other people are left alone', async () => {
    const { grantId } = await h.activeGrant();
    const mine = await h.account.startSession(ALICE, RASPI);
    expect(mine.ok).toBe(true);
    // Bob holds his own grant on staging-web, outside alice's fleet.
    const bobs = await h.command('U0BOB', 'staging-web 30m deploy check');
    const bobGrant = /Request `([a-z0-9]+)`/.exec(bobs)?.[1] as string;
    const stagingCard = h.slack.api.messagesIn('C0APPROVALS').at(-1);
    await h.click('U0CAROL', bobGrant, stagingCard as { channel: string; ts: string });
    const bobSession = await h.account.startSession(
      { kind: 'access-role', name: 'keyturn-u0bob', sessionName: 'bob' },
      STAGING,
    );
    expect(bobSession.ok).toBe(true);

    const reply = await h.command('U0ALICE', `done ${grantId}`);
    expect(reply).toContain(`Ending \`${grantId}\``);
    expect(await h.keyturn.deps.grants.get(grantId)).toMatchObject({ status: 'released', sessionsEnded: 1 });
    const open = await h.account.activeSessions();
    expect(open.map((s) => s.target)).toEqual([STAGING]);
    expect(dm('released').length + dm('Released').length).toBeGreaterThan(0);
  });

  it('an approver revokes with a reason; alice is told who and why; bob may not revoke', async () => {
    const { grantId } = await h.activeGrant();
    expect(await h.command('U0BOB', `revoke ${grantId} nope`)).toContain('Only the approvers of prod-raspi');
    expect((await h.keyturn.deps.grants.get(grantId))?.status).toBe('active');

    await h.command('U0CAROL', `revoke ${grantId} incident over`);
    expect(await h.keyturn.deps.grants.get(grantId)).toMatchObject({ status: 'revoked' });
    expect(dm('incident over')).toHaveLength(1);
    expect(h.account.attachedPolicies(ALICE)).toEqual([]);
  });

  it('extend: alice asks, carol approves, access reaches past the old expiry without a gap', async () => {
    const { grantId, grant } = await h.activeGrant();
    const oldExpiry = grant.expiresAt as string;
    expect(await h.command('U0ALICE', `extend ${grantId} 30m`)).toContain('Asked the approvers');
    const card = h.slack.api.messagesIn('C0APPROVALS').at(-1);
    expect(JSON.stringify(card?.blocks)).toContain(ACTION_EXTENSION_APPROVE);

    await h.click('U0CAROL', grantId, card as { channel: string; ts: string }, ACTION_EXTENSION_APPROVE);
    const extended = await h.keyturn.deps.grants.get(grantId);
    expect(extended?.expiresAt).toBe(
      new Date(Date.parse(oldExpiry) + 30 * 60_000).toISOString().replace('.000', ''),
    );
    expect(h.account.attachedPolicies(ALICE)).toHaveLength(1);

    clock.set(oldExpiry);
    clock.advance(60_000);
    expect(await h.account.evaluate(ALICE, RASPI)).toBe('allowed');
    expect((await sweep(h.keyturn.deps)).ended).toBe(0);
    clock.set(extended?.expiresAt as string);
    expect(await h.account.evaluate(ALICE, RASPI)).toBe('denied');
    expect(dm('extended').length + dm('Extended').length).toBeGreaterThan(0);
  });

  it('the I’m done button in a DM releases the grant', async () => {
    const { grantId } = await h.activeGrant();
    const ready = h.slack.api.dmsTo('U0ALICE').find((m) => JSON.stringify(m.blocks).includes(ACTION_RELEASE));
    expect(ready).toBeDefined();
    await h.click(
      'U0ALICE',
      grantId,
      { channel: ready?.channel as string, ts: ready?.ts as string },
      ACTION_RELEASE,
    );
    expect((await h.keyturn.deps.grants.get(grantId))?.status).toBe('released');
  });

  it('/access list shows alice her grant and carol every active grant on her targets', async () => {
    const { grantId } = await h.activeGrant();
    expect(await h.command('U0ALICE', 'list')).toContain(grantId);
    const carols = await h.command('U0CAROL', 'list');
    expect(carols).toContain('Active on targets you approve');
    expect(carols).toContain(grantId);
  });
});

describe('every account on its own, on DynamoDB (grants, claims and sessions in the real table)', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await startTestTable();
  });
  afterAll(async () => {
    await table.close();
  });

  /** The organisation's fakes for IAM and SSM; grants and sessions in Keyturn's table. */
  function onDynamo() {
    const o = organisation();
    const opts = { documentClient: table.documentClient, tableName: table.tableName };
    o.deps.grants = createDynamoGrantStore(opts);
    o.deps.sessions = createDynamoSessionStore({ ...opts, home: o.config.aws });
    // Grant ids unique to this test: the table is shared by the file.
    const prefix = randomUUID().slice(0, 8);
    let n = 0;
    o.deps.newId = () => `${prefix}${++n}`;
    return o;
  }

  async function activated(o: Organisation, user: string, text: string) {
    const grant = await approve(o, { user, text });
    await drain(o);
    const now = await o.deps.grants.get(grant.id);
    expect(now?.status).toBe('active');
    return grant.id;
  }

  it("B's expiry ends and its session is watched in B's place while C's STS fails; C's grants wait, reported once", async () => {
    const o = onDynamo();
    const inB = await activated(o, 'U0ALICE', 'factory-raspi 1h replace sensor');
    const inC = await activated(o, 'U0BOB', 'frankfurt-raspi 1h replace sensor');
    o.clock.advance(60_000);
    const opened = await o.factory.startSession(ALICE, FACTORY_NODE);
    if (!opened.ok) throw new Error(opened.reason);
    await sweep(o.deps);
    expect((await o.deps.sessions.listWatched(FACTORY)).map((s) => s.id)).toEqual([opened.session.id]);
    expect(await o.deps.sessions.listWatched(HOME)).toEqual([]);

    o.reach(FRANKFURT.accountId, 'unreachable');
    const expiresAt = (await o.deps.grants.get(inB))?.expiresAt as string;
    o.clock.set(expiresAt);
    expect(await sweep(o.deps)).toMatchObject({ ended: 1, unreachable: [FRANKFURT.accountId] });
    expect(await o.deps.grants.get(inB)).toMatchObject({ status: 'expired', sessionsEnded: 1 });
    expect(await o.factory.activeSessions()).toEqual([]);
    expect(await o.deps.grants.get(inC)).toMatchObject({ status: 'active', ending: { status: 'expired' } });

    for (let minute = 1; minute <= 7; minute++) {
      o.clock.advance(60_000);
      await sweep(o.deps);
    }
    const audits = o.chat.audits.filter((a) => a.event.kind === 'accounts-unreachable');
    expect(audits).toHaveLength(1);
    expect(audits[0]?.event).toMatchObject({
      accounts: [{ accountId: FRANKFURT.accountId, grants: [{ id: inC }] }],
    });

    o.reach(FRANKFURT.accountId, 'up');
    expect(await sweep(o.deps)).toMatchObject({ ended: 1 });
    expect((await o.deps.grants.get(inC))?.status).toBe('expired');
  });
});
