import { runAccessCommand } from '../../../src/app/access-command';
import { decideOnGrant } from '../../../src/app/decide';
import { cancelRequest, releaseGrant, revokeByApprover } from '../../../src/app/end-grant';
import { requestAccess } from '../../../src/app/request-access';
import { prodRaspi } from '../../support/fakes';
import {
  activate,
  alice,
  approve,
  at,
  callsAbout,
  drain,
  keyturnPolicies,
  notices,
  policyArnOf,
  type Scenario,
  scenario,
  stagingWeb,
  stored,
} from '../../support/grant-scenarios';

const LATER = '2026-11-23T10:20:00Z';

/** Nothing about the grant changed and nothing was queued or sent to IAM. */
async function expectUntouched(
  s: Scenario,
  id: string,
  before: Awaited<ReturnType<typeof stored>>,
  calls: number,
) {
  expect(await stored(s, id)).toEqual(before);
  expect(s.queue.jobs).toEqual([]);
  expect(s.account.calls.length).toBe(calls);
}

describe('/access done (releaseGrant)', () => {
  it.each([
    ['with its id', 'done g1'],
    ['without an id, when it is the only active grant', 'done'],
  ])('gives the grant back %s: released, policy gone, one ended DM', async (_, text) => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;
    at(s, LATER);

    const answer = await runAccessCommand(s.deps, { user: 'U0ALICE', text });
    expect(answer).toMatchObject({
      kind: 'done',
      result: { outcome: 'ending', already: false, grant: { id: 'g1' } },
    });
    expect(s.queue.jobs).toEqual([{ kind: 'revoke-grant', grantId: 'g1' }]);
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({
      status: 'released',
      ending: { status: 'released', by: 'U0ALICE', at: LATER },
    });
    expect(grant.history.at(-1)).toMatchObject({ from: 'active', to: 'released', by: 'U0ALICE' });
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
    expect(s.chat.notices).toEqual([
      {
        user: 'U0ALICE',
        notice: expect.objectContaining({
          kind: 'ended',
          grant: expect.objectContaining({ status: 'released' }),
        }),
      },
    ]);
  });

  it('asks which one when the requester has several active grants and gives no id', async () => {
    const s = scenario({ targets: { 'prod-raspi': prodRaspi, 'staging-web': stagingWeb } });
    await activate(s, { text: 'prod-raspi 1h replace sensor' });
    await activate(s, { text: 'staging-web 1h check deploy' });
    const before = [await stored(s, 'g1'), await stored(s, 'g2')];
    const calls = s.account.calls.length;

    const answer = await runAccessCommand(s.deps, { user: 'U0ALICE', text: 'done' });

    expect(answer).toMatchObject({ kind: 'done', result: { outcome: 'refused', reason: 'several-active' } });
    if (answer.kind === 'done' && answer.result.outcome === 'refused')
      expect(answer.result.grants?.map((g) => g.id).sort()).toEqual(['g1', 'g2']);
    await expectUntouched(s, 'g1', before[0]!, calls);
    expect(await stored(s, 'g2')).toEqual(before[1]);

    // With the id, just that one ends.
    await runAccessCommand(s.deps, { user: 'U0ALICE', text: 'done g2' });
    await drain(s);
    expect((await stored(s, 'g2')).status).toBe('released');
    expect((await stored(s, 'g1')).status).toBe('active');
  });

  it('refuses to end someone else’s grant', async () => {
    const s = scenario();
    await activate(s);
    const before = await stored(s, 'g1');
    const calls = s.account.calls.length;

    expect(await runAccessCommand(s.deps, { user: 'U0BOB', text: 'done g1' })).toMatchObject({
      kind: 'done',
      result: { outcome: 'refused', reason: 'not-yours' },
    });
    await expectUntouched(s, 'g1', before, calls);
  });

  it('says so when there is nothing to give back or no such grant', async () => {
    const s = scenario();
    await activate(s);
    expect(await releaseGrant(s.deps, { user: 'U0BOB' })).toEqual({
      outcome: 'refused',
      reason: 'no-active-grant',
    });
    expect(await releaseGrant(s.deps, { user: 'U0ALICE', grantId: 'nope' })).toEqual({
      outcome: 'refused',
      reason: 'unknown-grant',
    });
    expect(s.queue.jobs).toEqual([]);
  });
});

describe('/access revoke (revokeByApprover)', () => {
  it.each([
    ['a listed approver', 'U0CAROL'],
    ['a member of an approving user group', 'U0DAVE'],
  ])('ends the grant when %s asks, and the reason reaches the ended DM', async (_, approver) => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;
    at(s, LATER);

    const answer = await runAccessCommand(s.deps, {
      user: approver,
      text: 'revoke g1 wrong fleet, ask again',
    });
    expect(answer).toMatchObject({ kind: 'revoke', result: { outcome: 'ending', already: false } });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({
      status: 'revoked',
      ending: { status: 'revoked', by: approver, reason: 'wrong fleet, ask again', at: LATER },
    });
    expect(grant.history.at(-1)).toMatchObject({
      from: 'active',
      to: 'revoked',
      by: approver,
      note: '0 sessions ended; wrong fleet, ask again',
    });
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
    expect(notices(s, 'ended', 'g1')[0]?.grant.ending).toEqual({
      status: 'revoked',
      by: approver,
      reason: 'wrong fleet, ask again',
      at: LATER,
    });
  });

  it('refuses someone who is not an approver of the target, changing nothing', async () => {
    const s = scenario();
    await activate(s);
    const before = await stored(s, 'g1');
    const calls = s.account.calls.length;

    expect(await runAccessCommand(s.deps, { user: 'U0BOB', text: 'revoke g1 because' })).toMatchObject({
      kind: 'revoke',
      result: { outcome: 'refused', reason: 'not-approver' },
    });
    // The requester is not an approver either: they use `done`.
    expect(await revokeByApprover(s.deps, { user: 'U0ALICE', grantId: 'g1' })).toMatchObject({
      outcome: 'refused',
      reason: 'not-approver',
    });
    await expectUntouched(s, 'g1', before, calls);
  });

  it('needs an id', async () => {
    const s = scenario();
    expect(await runAccessCommand(s.deps, { user: 'U0CAROL', text: 'revoke' })).toEqual({
      kind: 'needs-id',
      command: 'revoke',
    });
  });

  it('refuses a grant that is not active', async () => {
    const s = scenario();
    await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h look' });
    expect(await revokeByApprover(s.deps, { user: 'U0CAROL', grantId: 'g1' })).toMatchObject({
      outcome: 'refused',
      reason: 'not-active',
    });
  });
});

describe('/access cancel (cancelRequest)', () => {
  it('withdraws a pending request: cancelled, no IAM, no DM, and the slot is free again', async () => {
    const s = scenario();
    await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h look' });
    await drain(s);
    at(s, LATER);

    const answer = await runAccessCommand(s.deps, { user: 'U0ALICE', text: 'cancel g1' });
    expect(answer).toMatchObject({
      kind: 'cancel',
      result: { outcome: 'cancelled', grant: { status: 'cancelled' } },
    });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('cancelled');
    expect(grant.history.at(-1)).toEqual({ at: LATER, from: 'pending', to: 'cancelled', by: 'U0ALICE' });
    expect(s.chat.notices).toEqual([]);
    expect(s.chat.cardUpdates.at(-1)?.view.grant.status).toBe('cancelled');
    expect(s.account.calls.map((c) => c.op)).not.toContain('createPolicy');
    // An approval arriving afterwards is refused.
    expect(
      await decideOnGrant(s.deps, {
        grantId: 'g1',
        clicker: 'U0CAROL',
        action: 'approve',
      }),
    ).toMatchObject({ outcome: 'refused', reason: 'not-pending' });
    expect(await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h look again' })).toMatchObject({
      outcome: 'requested',
    });
  });

  it.each([
    ['approved', 'approve'],
    ['active', 'activate'],
  ] as const)('refuses to cancel an %s grant: it stays as it is', async (status, how) => {
    const s = scenario();
    if (how === 'approve') await approve(s);
    else await activate(s);
    s.queue.jobs.length = 0;
    const before = await stored(s, 'g1');
    expect(before.status).toBe(status);
    const calls = s.account.calls.length;

    expect(await cancelRequest(s.deps, { user: 'U0ALICE', grantId: 'g1' })).toMatchObject({
      outcome: 'refused',
      reason: 'not-pending',
    });
    await expectUntouched(s, 'g1', before, calls);
  });

  it('refuses someone else’s request and an unknown id; needs an id', async () => {
    const s = scenario();
    await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h look' });
    s.queue.jobs.length = 0;
    expect(await cancelRequest(s.deps, { user: 'U0BOB', grantId: 'g1' })).toMatchObject({
      outcome: 'refused',
      reason: 'not-yours',
    });
    expect(await cancelRequest(s.deps, { user: 'U0ALICE', grantId: 'nope' })).toEqual({
      outcome: 'refused',
      reason: 'unknown-grant',
    });
    expect(await runAccessCommand(s.deps, { user: 'U0ALICE', text: 'cancel' })).toEqual({
      kind: 'needs-id',
      command: 'cancel',
    });
    expect((await stored(s, 'g1')).status).toBe('pending');
    expect(s.queue.jobs).toEqual([]);
  });
});

describe('ending requested twice', () => {
  it('one after the other: the first decides how it ends, and it is revoked once', async () => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;
    at(s, LATER);

    expect(await releaseGrant(s.deps, { user: 'U0ALICE', grantId: 'g1' })).toMatchObject({ already: false });
    expect(await revokeByApprover(s.deps, { user: 'U0CAROL', grantId: 'g1', reason: 'late' })).toMatchObject({
      outcome: 'ending',
      already: true,
    });
    expect(await releaseGrant(s.deps, { user: 'U0ALICE', grantId: 'g1' })).toMatchObject({ already: true });
    expect(s.queue.jobs).toEqual([{ kind: 'revoke-grant', grantId: 'g1' }]);
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({ status: 'released', ending: { status: 'released', by: 'U0ALICE' } });
    expect(grant.history.filter((h) => h.event === 'ending-requested')).toHaveLength(1);
    expect(callsAbout(s, 'detachPolicy', policyArnOf(s, 'g1'))).toBe(1);
    expect(callsAbout(s, 'deletePolicy', policyArnOf(s, 'g1'))).toBe(1);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
  });

  it('at the same moment: exactly one wins, one revoke job, one revoke', async () => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;

    const results = await Promise.all([
      releaseGrant(s.deps, { user: 'U0ALICE', grantId: 'g1' }),
      revokeByApprover(s.deps, { user: 'U0CAROL', grantId: 'g1' }),
      releaseGrant(s.deps, { user: 'U0ALICE', grantId: 'g1' }),
    ]);

    expect(results.filter((r) => r.outcome === 'ending' && !r.already)).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'ending' && r.already)).toHaveLength(2);
    expect(s.queue.jobs).toEqual([{ kind: 'revoke-grant', grantId: 'g1' }]);
    // A redelivered revoke job too.
    s.queue.jobs.push({ kind: 'revoke-grant', grantId: 'g1' });
    await drain(s);

    expect(['released', 'revoked']).toContain((await stored(s, 'g1')).status);
    expect(callsAbout(s, 'deletePolicy', policyArnOf(s, 'g1'))).toBe(1);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
  });
});
