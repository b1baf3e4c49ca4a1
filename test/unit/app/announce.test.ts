import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { announceChange } from '../../../src/app/announce';
import { applyGrant } from '../../../src/app/apply-grant';
import { decideOnGrant } from '../../../src/app/decide';
import { postRequestCard } from '../../../src/app/post-request-card';
import { requestAccess } from '../../../src/app/request-access';
import type { Grant } from '../../../src/domain/grant';
import type { ManagedNode } from '../../../src/domain/node';
import type { Target } from '../../../src/domain/target';
import type { Notice } from '../../../src/ports/chat';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  prodRaspi,
  RecordingChat,
  RecordingQueue,
  silentLogger,
  testConfig,
} from '../../support/fakes';
import { FACTORY, orgConfig } from '../../support/org-config';

const RASPI_NODES: ManagedNode[] = [
  { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'ConnectionLost' },
];

/** A requested grant with its approval card posted, driven by the real use cases. */
async function requested(target: Target = prodRaspi) {
  const config = testConfig({ targets: { 'prod-raspi': target } });
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
  const account = new SimulatedAccount({
    accountId: config.aws.accountId,
    region: config.aws.region,
    nodes: config.sandbox.fleet,
    clock,
  });
  const deps = {
    config,
    grants,
    queue,
    chat,
    clock,
    aws: onePlace({ access: account, fleet: account }),
    logger: silentLogger,
    newId: () => 'g1',
    readiness: { maxWaitMs: 5_000, firstDelayMs: 1_000 },
  };
  await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
  await postRequestCard(deps, 'g1');
  const card = chat.cards[0]!.ref;
  clock.set('2026-11-23T10:03:20Z');
  const reset = () => {
    chat.cardUpdates.length = 0;
    chat.notices.length = 0;
    account.calls.length = 0;
  };
  return { deps, grants, chat, account, card, reset };
}

type Setup = Awaited<ReturnType<typeof requested>>;

async function current(s: Setup): Promise<Grant> {
  const grant = await s.grants.get('g1');
  if (!grant) throw new Error('grant g1 is gone');
  return grant;
}

/** Drives the grant to the status whose history step is announced; returns that step. */
const steps: Record<string, (s: Setup) => Promise<number>> = {
  approved: async (s) => {
    await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    return 1;
  },
  denied: async (s) => {
    await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'deny', denyReason: 'not now' });
    return 1;
  },
  active: async (s) => {
    await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    expect(await applyGrant(s.deps, 'g1')).toBe('activated');
    return 2;
  },
  failed: async (s) => {
    await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    s.account.failNext('attachPolicy', 'LimitExceeded');
    expect(await applyGrant(s.deps, 'g1')).toBe('failed');
    return 2;
  },
};

describe('announceChange', () => {
  it.each([
    ['approved', 'approved'],
    ['denied', 'denied'],
    ['active', 'ready'],
    ['failed', 'failed'],
  ] as const)('on %s: updates the card with the current grant and sends one %s DM', async (status, kind) => {
    const s = await requested();
    const step = await steps[status]!(s);
    s.reset();

    await announceChange(s.deps, { grantId: 'g1', step });

    const grant = await current(s);
    expect(grant.status).toBe(status);
    expect(grant.history[step]?.to).toBe(status);
    expect(s.chat.cardUpdates).toEqual([
      { ref: s.card, view: { grant, target: prodRaspi, nodes: RASPI_NODES } },
    ]);
    const expected: Notice =
      kind === 'ready'
        ? {
            kind,
            grant,
            target: prodRaspi,
            nodes: RASPI_NODES,
            region: 'ap-northeast-1',
            // alice's access role, as she pastes it into ~/.aws/config.
            profile: {
              name: 'keyturn',
              roleArn: 'arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice',
              roleSessionName: 'alice',
              region: 'ap-northeast-1',
              sourceProfile: {
                placeholder: 'default',
                meaning: "the profile with IAM user alice's access keys",
              },
            },
          }
        : { kind, grant, target: prodRaspi };
    expect(s.chat.notices).toEqual([{ user: 'U0ALICE', notice: expected }]);
  });

  it('sends each step its own DM: approved, then ready', async () => {
    const s = await requested();
    await steps.active!(s);
    s.reset();

    await announceChange(s.deps, { grantId: 'g1', step: 1 });
    await announceChange(s.deps, { grantId: 'g1', step: 2 });

    expect(s.chat.notices.map((n) => [n.user, n.notice.kind])).toEqual([
      ['U0ALICE', 'approved'],
      ['U0ALICE', 'ready'],
    ]);
  });

  it('sends the DM once when the same step is announced twice, and keeps the card current', async () => {
    const s = await requested();
    const step = await steps.approved!(s);
    s.reset();

    await announceChange(s.deps, { grantId: 'g1', step });
    await announceChange(s.deps, { grantId: 'g1', step });

    expect(s.chat.notices).toHaveLength(1);
    expect(s.chat.cardUpdates).toHaveLength(2);
  });

  it('sends the DM once when the same step is delivered 10 times at once', async () => {
    const s = await requested();
    const step = await steps.active!(s);
    s.reset();

    await Promise.all(Array.from({ length: 10 }, () => announceChange(s.deps, { grantId: 'g1', step })));

    expect(s.chat.notices).toHaveLength(1);
    expect(s.chat.notices[0]?.notice.kind).toBe('ready');
  });

  it('updates the card but sends no DM when an approval is recorded and more are needed', async () => {
    const s = await requested({ ...prodRaspi, approvals: 2 });
    const decided = await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    expect(decided.outcome).toBe('approval-recorded');
    s.reset();

    await announceChange(s.deps, { grantId: 'g1', step: 1 });

    const grant = await current(s);
    expect(grant.history[1]).toMatchObject({ from: 'pending', to: 'pending' });
    expect(s.chat.cardUpdates).toEqual([
      { ref: s.card, view: { grant, target: { ...prodRaspi, approvals: 2 }, nodes: RASPI_NODES } },
    ]);
    expect(s.chat.notices).toEqual([]);
  });

  it('updates the card but sends no DM for the request itself', async () => {
    const s = await requested();
    s.reset();

    await announceChange(s.deps, { grantId: 'g1', step: 0 });

    expect(s.chat.cardUpdates).toHaveLength(1);
    expect(s.chat.notices).toEqual([]);
  });

  it('still sends the DM when the grant has no card yet', async () => {
    const s = await requested();
    const withoutCard = { ...(await current(s)) };
    delete withoutCard.card;
    withoutCard.version += 1;
    await s.grants.save(withoutCard, withoutCard.version - 1);
    const step = await steps.approved!(s);
    s.reset();

    await announceChange(s.deps, { grantId: 'g1', step });

    expect(s.chat.cardUpdates).toEqual([]);
    expect(s.chat.notices.map((n) => n.notice.kind)).toEqual(['approved']);
    // Neither a card nor a ready DM shows nodes here, so SSM is not asked for them.
    expect(s.account.calls.filter((c) => c.op === 'nodesTagged')).toEqual([]);
  });

  it.each([
    ['an unknown grant', 'nope', 1],
    ['an unknown step', 'g1', 7],
    ['a negative step', 'g1', -1],
  ])('does nothing for %s', async (_, grantId, step) => {
    const s = await requested();
    await steps.approved!(s);
    s.reset();

    await announceChange(s.deps, { grantId, step });

    expect(s.chat.cardUpdates).toEqual([]);
    expect(s.chat.notices).toEqual([]);
    expect(s.account.calls).toEqual([]);
  });

  it('does nothing for a grant whose target left the configuration', async () => {
    const s = await requested();
    await steps.approved!(s);
    s.reset();

    await announceChange({ ...s.deps, config: testConfig({ targets: {} }) }, { grantId: 'g1', step: 1 });

    expect(s.chat.cardUpdates).toEqual([]);
    expect(s.chat.notices).toEqual([]);
  });
});

describe('announceChange in an organisation', () => {
  it("sends the ready DM with the profile of the grant's own account, named after it, in the grant's region", async () => {
    const config = orgConfig();
    const clock = new ManualClock(new Date('2026-11-23T10:03:20Z'));
    const grants = new MemoryGrantStore();
    const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
    const account = new SimulatedAccount({
      accountId: FACTORY,
      region: 'ap-northeast-3',
      nodes: [
        { id: 'mi-0a1b2c3d4e5f60009', name: 'osaka-1', tags: { Fleet: 'osaka-raspi' }, ping: 'Online' },
      ],
      clock,
    });
    const at = '2026-11-23T10:03:00Z';
    const grant: Grant = {
      id: 'g1',
      requester: 'U0ALICE',
      principal: { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
      target: 'osaka-raspi',
      account: FACTORY,
      region: 'ap-northeast-3',
      durationMinutes: 60,
      reason: 'swap a sensor',
      status: 'active',
      version: 3,
      requestedAt: '2026-11-23T10:00:00Z',
      approvals: [{ by: 'U0CAROL', at }],
      startsAt: at,
      expiresAt: '2026-11-23T11:03:00Z',
      history: [
        { at: '2026-11-23T10:00:00Z', from: null, to: 'pending', by: 'U0ALICE' },
        { at, from: 'pending', to: 'approved', by: 'U0CAROL' },
        { at: '2026-11-23T10:03:20Z', from: 'approved', to: 'active', by: 'keyturn' },
      ],
    };
    await grants.create(grant);
    const deps = {
      config,
      grants,
      queue: new RecordingQueue(),
      chat,
      clock,
      aws: onePlace({ access: account, fleet: account }),
      logger: silentLogger,
    };

    await announceChange(deps, { grantId: 'g1', step: 2 });

    expect(chat.notices).toHaveLength(1);
    expect(chat.notices[0]?.notice).toMatchObject({
      kind: 'ready',
      region: 'ap-northeast-3',
      profile: {
        name: 'keyturn-factory',
        roleArn: `arn:aws:iam::${FACTORY}:role/keyturn/people/keyturn-u0alice`,
        roleSessionName: 'alice',
        region: 'ap-northeast-3',
      },
    });
  });
});
