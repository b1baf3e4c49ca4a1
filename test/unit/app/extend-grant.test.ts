import { decideOnGrant } from '../../../src/app/decide';
import { releaseGrant } from '../../../src/app/end-grant';
import { applyExtension, decideOnExtension, requestExtension } from '../../../src/app/extend-grant';
import { grantPolicy } from '../../../src/app/grant-policy';
import { requestAccess } from '../../../src/app/request-access';
import { sweep } from '../../../src/app/sweep';
import type { Grant } from '../../../src/domain/grant';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import type { Target } from '../../../src/domain/target';
import { prodRaspi } from '../../support/fakes';
import {
  activate,
  alice,
  at,
  callsAbout,
  drain,
  notices,
  policyArnOf,
  RASPI_NODE,
  type Scenario,
  scenario,
  stored,
} from '../../support/grant-scenarios';

const OLD_EXPIRY = '2026-11-23T11:00:00Z';
const NEW_EXPIRY = '2026-11-23T12:00:00Z';

function expectedDocument(
  s: Scenario,
  grant: Grant,
  expiresAt: string,
  target: Target = prodRaspi,
): PolicyDocument {
  const rendered = grantPolicy(s.config, { startsAt: grant.startsAt!, expiresAt }, target);
  if (!rendered.ok) throw new Error('did not render');
  return rendered.value;
}

/** alice asks for more time on g1, carol approves, the worker runs every job. */
async function extend(s: Scenario, durationText?: string): Promise<Grant> {
  const requested = await requestExtension(s.deps, {
    user: 'U0ALICE',
    grantId: 'g1',
    ...(durationText ? { durationText } : {}),
  });
  if (requested.outcome !== 'requested') throw new Error(`not requested: ${JSON.stringify(requested)}`);
  await drain(s);
  const decided = await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
  if (decided.outcome !== 'approved') throw new Error(`not approved: ${JSON.stringify(decided)}`);
  await drain(s);
  return stored(s, 'g1');
}

function versions(s: Scenario) {
  return s.account.policy(policyArnOf(s, 'g1'))?.versions.map((v) => [v.versionId, v.isDefault]);
}

describe('extension: request → approve → apply', () => {
  it('makes a new default policy version with the later expiry, moves expiresAt, and DMs once', async () => {
    const s = scenario();
    const active = await activate(s);
    s.chat.notices.length = 0;
    at(s, '2026-11-23T10:40:00Z');

    const requested = await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    expect(requested).toMatchObject({
      outcome: 'requested',
      channel: 'C0APPROVALS',
      grant: { extension: { minutes: 60, state: 'pending', requestedBy: 'U0ALICE' } },
    });
    expect(s.queue.jobs).toEqual([{ kind: 'post-extension-card', grantId: 'g1' }]);
    await drain(s);
    expect(s.chat.extensionCards).toHaveLength(1);
    expect(s.chat.extensionCards[0]).toMatchObject({
      channel: 'C0APPROVALS',
      view: { newExpiresAt: NEW_EXPIRY, totalMinutes: 120 },
    });
    // Nothing changes in IAM until an approver says so.
    expect(versions(s)).toEqual([['v1', true]]);

    at(s, '2026-11-23T10:45:00Z');
    const decided = await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    expect(decided).toMatchObject({
      outcome: 'approved',
      grant: { extension: { state: 'approved', newExpiresAt: NEW_EXPIRY } },
    });
    expect(s.queue.jobs).toContainEqual({ kind: 'apply-extension', grantId: 'g1' });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({
      status: 'active',
      expiresAt: NEW_EXPIRY,
      extendedMinutes: 60,
      extension: { state: 'extended', decidedBy: 'U0CAROL' },
      policyArn: active.policyArn,
    });
    expect(grant.history.at(-1)).toMatchObject({
      event: 'extended',
      note: `until ${NEW_EXPIRY}`,
      by: 'keyturn',
    });
    expect(versions(s)).toEqual([
      ['v1', false],
      ['v2', true],
    ]);
    expect(s.account.policyDocument(policyArnOf(s, 'g1'))).toEqual(expectedDocument(s, grant, NEW_EXPIRY));
    expect(s.account.attachedPolicies(alice)).toEqual([policyArnOf(s, 'g1')]);
    expect(notices(s, 'extended', 'g1')).toHaveLength(1);
    expect(notices(s, 'extended', 'g1')[0]?.grant.expiresAt).toBe(NEW_EXPIRY);
    expect(s.chat.extensionCardUpdates.at(-1)?.view.outcome).toEqual({ kind: 'extended', by: 'U0CAROL' });

    // A redelivered apply job changes nothing.
    expect(await applyExtension(s.deps, 'g1')).toBe('skipped');
    expect(versions(s)).toHaveLength(2);
  });

  it('lets StartSession through past the old expiry and denies it past the new one (iam-simulate)', async () => {
    const s = scenario();
    await activate(s);
    at(s, '2026-11-23T10:50:00Z');
    // Before: the old window ends at 11:00.
    expect(await s.account.evaluate(alice, RASPI_NODE, '2026-11-23T11:30:00Z')).toBe('denied');
    await extend(s, '1h');

    at(s, OLD_EXPIRY);
    expect(await sweep(s.deps)).toMatchObject({ ended: 0 });
    at(s, '2026-11-23T11:30:00Z');
    expect(await s.account.startSession(alice, RASPI_NODE)).toMatchObject({ ok: true });
    expect(await s.account.evaluate(alice, RASPI_NODE, '2026-11-23T11:59:59Z')).toBe('allowed');
    // The new expiry is in the policy: denied at 12:00 even before the sweep removes it.
    expect(await s.account.evaluate(alice, RASPI_NODE, NEW_EXPIRY)).toBe('denied');

    at(s, NEW_EXPIRY);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1 });
    expect((await stored(s, 'g1')).status).toBe('expired');
    expect(await s.account.startSession(alice, RASPI_NODE)).toEqual({ ok: false, reason: 'access-denied' });
    expect(await s.account.activeSessions()).toEqual([]);
  });

  it('warns again before the new expiry: one warning per expiry time', async () => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;

    at(s, '2026-11-23T10:50:00Z');
    expect((await sweep(s.deps)).warned).toBe(1);
    at(s, '2026-11-23T10:52:00Z');
    await extend(s, '1h');
    for (const time of ['2026-11-23T10:55:00Z', '2026-11-23T11:00:00Z', '2026-11-23T11:49:59Z']) {
      at(s, time);
      expect((await sweep(s.deps)).warned).toBe(0);
    }
    at(s, '2026-11-23T11:50:00Z');
    expect((await sweep(s.deps)).warned).toBe(1);
    at(s, '2026-11-23T11:55:00Z');
    expect((await sweep(s.deps)).warned).toBe(0);

    expect(notices(s, 'warning', 'g1').map((n) => n.grant.expiresAt)).toEqual([OLD_EXPIRY, NEW_EXPIRY]);
  });

  it('needs the target’s number of distinct approvers, like the grant itself', async () => {
    const s = scenario({ targets: { 'prod-raspi': { ...prodRaspi, approvals: 2 } } });
    await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    await decideOnGrant(s.deps, { grantId: 'g1', clicker: 'U0DAVE', action: 'approve' });
    await drain(s);
    expect((await stored(s, 'g1')).status).toBe('active');
    await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    await drain(s);

    expect(
      await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' }),
    ).toMatchObject({ outcome: 'approval-recorded' });
    expect(
      await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' }),
    ).toMatchObject({ outcome: 'refused', reason: 'already-approved-by-you' });
    expect(s.queue.jobs).not.toContainEqual({ kind: 'apply-extension', grantId: 'g1' });
    await drain(s);
    expect(versions(s)).toEqual([['v1', true]]);

    expect(
      await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0DAVE', action: 'approve' }),
    ).toMatchObject({
      outcome: 'approved',
    });
    await drain(s);
    expect(await stored(s, 'g1')).toMatchObject({ expiresAt: NEW_EXPIRY, extension: { state: 'extended' } });
    expect(versions(s)).toHaveLength(2);
  });
});

describe('extension: bounds', () => {
  it('refuses more than maxDuration in total, saying what is left, and accepts exactly what is left', async () => {
    const s = scenario();
    await activate(s); // 1h of prodRaspi's 4h maxDuration
    const before = await stored(s, 'g1');
    s.queue.jobs.length = 0;

    expect(
      await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '4h' }),
    ).toMatchObject({
      outcome: 'refused',
      reason: 'over-total',
      remaining: 180,
      limit: 240,
    });
    expect(await stored(s, 'g1')).toEqual(before);
    expect(s.queue.jobs).toEqual([]);

    expect(
      await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '3h' }),
    ).toMatchObject({
      outcome: 'requested',
      grant: { extension: { minutes: 180 } },
    });
  });

  it('[Extend] without a duration asks for the default, or only for what is left, then for nothing', async () => {
    const s = scenario();
    await activate(s, { text: 'prod-raspi 3h30m long job' });

    const asked = await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1' });
    expect(asked).toMatchObject({ outcome: 'requested', grant: { extension: { minutes: 30 } } });
    await drain(s);
    await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    await drain(s);
    expect(await stored(s, 'g1')).toMatchObject({ extendedMinutes: 30, expiresAt: '2026-11-23T14:00:00Z' });

    expect(await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1' })).toMatchObject({
      outcome: 'refused',
      reason: 'over-total',
      remaining: 0,
      limit: 240,
    });

    const roomy = scenario();
    await activate(roomy);
    expect(await requestExtension(roomy.deps, { user: 'U0ALICE', grantId: 'g1' })).toMatchObject({
      outcome: 'requested',
      grant: { extension: { minutes: 60 } },
    });
  });

  it('lets maxTotal raise the bound on the total above maxDuration', async () => {
    const s = scenario({ targets: { 'prod-raspi': { ...prodRaspi, maxTotalMinutes: 480 } } });
    await activate(s);

    const grant = await extend(s, '4h');
    expect(grant).toMatchObject({ expiresAt: '2026-11-23T15:00:00Z', extendedMinutes: 240 });

    expect(
      await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '3h30m' }),
    ).toMatchObject({ outcome: 'refused', reason: 'over-total', remaining: 180, limit: 480 });
    expect(
      await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '3h' }),
    ).toMatchObject({
      outcome: 'requested',
    });
  });

  it('keeps IAM’s 5 versions by deleting the oldest non-default one', async () => {
    const s = scenario({ targets: { 'prod-raspi': { ...prodRaspi, maxTotalMinutes: 600 } } });
    await activate(s);

    for (let i = 1; i <= 4; i++) {
      s.clock.advance(5 * 60_000);
      await extend(s, '30m');
    }
    expect(versions(s)).toEqual([
      ['v1', false],
      ['v2', false],
      ['v3', false],
      ['v4', false],
      ['v5', true],
    ]);

    s.clock.advance(5 * 60_000);
    const grant = await extend(s, '30m');

    expect(versions(s)).toEqual([
      ['v2', false],
      ['v3', false],
      ['v4', false],
      ['v5', false],
      ['v6', true],
    ]);
    expect(grant).toMatchObject({ expiresAt: '2026-11-23T13:30:00Z', extendedMinutes: 150 });
    expect(s.account.policyDocument(policyArnOf(s, 'g1'))).toEqual(
      expectedDocument(s, grant, '2026-11-23T13:30:00Z'),
    );
  });
});

describe('extension: denied, refused, or overtaken', () => {
  it('sends an extension-denied DM with who and why, and creates no policy version', async () => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;
    await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    await drain(s);

    const decided = await decideOnExtension(s.deps, {
      grantId: 'g1',
      clicker: 'U0CAROL',
      action: 'deny',
      denyReason: 'wrap it up today',
    });
    expect(decided.outcome).toBe('denied');
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({
      expiresAt: OLD_EXPIRY,
      extension: { state: 'denied', denyReason: 'wrap it up today' },
    });
    expect(grant.extendedMinutes).toBeUndefined();
    expect(versions(s)).toEqual([['v1', true]]);
    expect(callsAbout(s, 'createPolicyVersion', policyArnOf(s, 'g1'))).toBe(0);
    expect(s.chat.notices).toEqual([
      {
        user: 'U0ALICE',
        notice: expect.objectContaining({
          kind: 'extension-denied',
          by: 'U0CAROL',
          reason: 'wrap it up today',
        }),
      },
    ]);
    expect(s.chat.extensionCardUpdates.at(-1)?.view.outcome).toEqual({
      kind: 'denied',
      by: 'U0CAROL',
      reason: 'wrap it up today',
    });
    // A denied extension does not block asking again.
    expect(
      await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '30m' }),
    ).toMatchObject({
      outcome: 'requested',
    });
  });

  it.each([
    ['someone else asks', 'U0BOB', undefined, 'not-yours'],
    ['an extension is already in flight', 'U0ALICE', 'pending', 'in-flight'],
    ['the grant is ending', 'U0ALICE', 'ending', 'not-active'],
    ['the duration is not one', 'U0ALICE', 'bad-duration', 'bad-duration'],
  ] as const)('refuses a request when %s', async (_, user, state, reason) => {
    const s = scenario();
    await activate(s);
    if (state === 'pending')
      await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    if (state === 'ending') await releaseGrant(s.deps, { user: 'U0ALICE' });
    const before = await stored(s, 'g1');

    const result = await requestExtension(s.deps, {
      user,
      grantId: 'g1',
      durationText: state === 'bad-duration' ? '1x' : '1h',
    });

    expect(result).toMatchObject({ outcome: 'refused', reason });
    expect(await stored(s, 'g1')).toEqual(before);
  });

  it.each([
    ['the requester, even one who is an approver', 'U0DAVE', 'U0DAVE', 'self-approval'],
    ['a non-approver', 'U0ALICE', 'U0BOB', 'not-approver'],
  ] as const)('refuses approval by %s', async (_, requester, clicker, reason) => {
    const s = scenario();
    await activate(s, { user: requester });
    await requestExtension(s.deps, { user: requester, grantId: 'g1', durationText: '1h' });
    await drain(s);

    expect(await decideOnExtension(s.deps, { grantId: 'g1', clicker, action: 'approve' })).toMatchObject({
      outcome: 'refused',
      reason,
    });
    expect((await stored(s, 'g1')).extension?.state).toBe('pending');
    expect(callsAbout(s, 'createPolicyVersion', policyArnOf(s, 'g1'))).toBe(0);
  });

  it('an approved extension not yet applied at the old expiry is applied by the sweep, not expired', async () => {
    const s = scenario();
    await activate(s);
    at(s, '2026-11-23T10:58:00Z');
    await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    await drain(s);
    await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    s.queue.jobs.length = 0; // the worker has not got to the apply job yet

    at(s, OLD_EXPIRY);
    expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 0 });

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({
      status: 'active',
      expiresAt: NEW_EXPIRY,
      extension: { state: 'extended' },
    });
    expect(grant.ending).toBeUndefined();
    expect(versions(s)).toEqual([
      ['v1', false],
      ['v2', true],
    ]);
    expect(s.account.attachedPolicies(alice)).toEqual([policyArnOf(s, 'g1')]);
    expect(await s.account.startSession(alice, RASPI_NODE)).toMatchObject({ ok: true });
    await drain(s);
    expect(notices(s, 'extended', 'g1')).toHaveLength(1);
    expect(notices(s, 'ended', 'g1')).toEqual([]);
  });

  it('a pending extension does not keep a grant past its expiry; its card says dropped', async () => {
    const s = scenario();
    await activate(s);
    at(s, '2026-11-23T10:58:00Z');
    await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    await drain(s);

    at(s, OLD_EXPIRY);
    expect((await sweep(s.deps)).ended).toBe(1);
    await drain(s);

    expect((await stored(s, 'g1')).status).toBe('expired');
    expect(s.chat.extensionCardUpdates.at(-1)?.view.outcome).toEqual({ kind: 'dropped' });
    expect(
      await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' }),
    ).toMatchObject({ outcome: 'refused', reason: 'not-pending' });
  });

  it('re-drives an approved extension whose apply job was lost, once it has waited more than 2 minutes', async () => {
    const s = scenario();
    await activate(s);
    at(s, '2026-11-23T10:30:00Z');
    await requestExtension(s.deps, { user: 'U0ALICE', grantId: 'g1', durationText: '1h' });
    await drain(s);
    await decideOnExtension(s.deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    s.queue.jobs.length = 0;

    at(s, '2026-11-23T10:32:00Z');
    expect((await sweep(s.deps)).redriven).toBe(0);
    at(s, '2026-11-23T10:32:01Z');
    expect((await sweep(s.deps)).redriven).toBe(1);
    expect(s.queue.jobs).toEqual([{ kind: 'apply-extension', grantId: 'g1' }]);
    await drain(s);

    expect(await stored(s, 'g1')).toMatchObject({ expiresAt: NEW_EXPIRY, extension: { state: 'extended' } });
    at(s, '2026-11-23T10:35:00Z');
    expect((await sweep(s.deps)).redriven).toBe(0);
  });
});
