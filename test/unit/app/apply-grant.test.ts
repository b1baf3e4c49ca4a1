import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { applyGrant, grantPolicyArn } from '../../../src/app/apply-grant';
import { decideOnGrant } from '../../../src/app/decide';
import type { Deps } from '../../../src/app/deps';
import { grantPolicy } from '../../../src/app/grant-policy';
import { transitionlessUpdate } from '../../../src/app/grant-updates';
import { requestAccess } from '../../../src/app/request-access';
import type { Config } from '../../../src/config/types';
import type { Grant } from '../../../src/domain/grant';
import { POLICY_PATH, policyName } from '../../../src/domain/policy';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import type { Principal } from '../../../src/domain/principal';
import type { Target } from '../../../src/domain/target';
import { AccessControlError } from '../../../src/ports/access-control';
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

const REQUESTED_AT = '2026-11-23T10:00:00Z';
const APPROVED_AT = '2026-11-23T10:03:20Z';
const EXPIRES_AT = '2026-11-23T11:03:20Z';
const RASPI_NODE = 'mi-0a1b2c3d4e5f60001';
const STAGING_NODE = 'i-0123456789abcdef0';
const READINESS = { maxWaitMs: 10_000, firstDelayMs: 1_000 };

const alice: Principal = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' };
const dave: Principal = { kind: 'access-role', name: 'keyturn-u0dave', sessionName: 'oncall-dave' };

const RECORDED = ['createPolicy', 'attachPolicy', 'detachPolicy', 'deletePolicy', 'canStartSession'] as const;
type Op = (typeof RECORDED)[number];

/**
 * The simulated account as the use case sees it, also recording what each grant call answered (the
 * account records only what was asked). `beforeOp` lets a test hold a call back to interleave two workers.
 */
function answering(account: SimulatedAccount, beforeOp: (op: Op) => Promise<void> = async () => {}) {
  const answers: { op: Op; answer: unknown }[] = [];
  const access = new Proxy(account, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (!RECORDED.some((op) => op === prop)) return value.bind(target);
      const op = prop as Op;
      return async (...args: unknown[]) => {
        await beforeOp(op);
        const answer = await value.apply(target, args);
        answers.push({ op, answer });
        return answer;
      };
    },
  });
  return { access, answers };
}

/** A grant requested by `user` and approved by carol at APPROVED_AT, through the real use cases. */
async function approved(opts: { user?: string; target?: Target; others?: Record<string, Target> } = {}) {
  const config = testConfig({ targets: { 'prod-raspi': opts.target ?? prodRaspi, ...opts.others } });
  const clock = new ManualClock(new Date(REQUESTED_AT));
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  const account = new SimulatedAccount({
    accountId: config.aws.accountId,
    region: config.aws.region,
    nodes: config.sandbox.fleet,
    clock,
  });
  const { access, answers } = answering(account);
  const deps = {
    config,
    grants,
    queue,
    aws: onePlace({ access, fleet: account }),
    clock,
    chat: new RecordingChat({ S0SREGROUP: ['U0DAVE'] }),
    logger: silentLogger,
    newId: () => 'g1',
    readiness: READINESS,
  } satisfies Partial<Deps>;

  const requested = await requestAccess(deps, { user: opts.user ?? 'U0ALICE', text: 'prod-raspi 1h fix it' });
  expect(requested.outcome).toBe('requested');
  clock.set(APPROVED_AT);
  const decided = await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
  expect(decided.outcome).toBe('approved');
  queue.jobs.length = 0;

  const arn = grantPolicyArn(config.aws, 'g1');
  return { deps, config, clock, grants, queue, account, answers, arn };
}

type Setup = Awaited<ReturnType<typeof approved>>;

async function stored(grants: MemoryGrantStore): Promise<Grant> {
  const grant = await grants.get('g1');
  if (!grant) throw new Error('grant g1 is gone');
  return grant;
}

function ops(account: SimulatedAccount): string[] {
  return account.calls.map((c) => c.op);
}

function keyturnPolicies(account: SimulatedAccount): string[] {
  return account.policyArns().filter((arn) => arn.includes(':policy/keyturn/'));
}

function renderedFor(config: Config, grant: Grant, target: Target): PolicyDocument {
  const rendered = grantPolicy(config, { startsAt: grant.startsAt!, expiresAt: grant.expiresAt! }, target);
  if (!rendered.ok) throw new Error(`did not render: ${JSON.stringify(rendered.error)}`);
  return rendered.value;
}

/** The grant ended failed, announced, and left nothing in the account. */
async function expectFailedAndClean(s: Setup, reason: RegExp) {
  const grant = await stored(s.grants);
  expect(grant.status).toBe('failed');
  expect(grant.failureReason).toMatch(reason);
  expect(grant.policyArn).toBeUndefined();
  expect(grant.history.at(-1)).toMatchObject({ from: 'approved', to: 'failed', by: 'keyturn' });
  expect(s.account.attachedPolicies(grant.principal)).toEqual([]);
  expect(keyturnPolicies(s.account)).toEqual([]);
  expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: grant.history.length - 1 }]);
}

describe('applyGrant: an approved grant', () => {
  it.each([
    ['an IAM user', 'U0ALICE', alice, dave],
    ['an IAM role', 'U0DAVE', dave, alice],
  ])(
    'creates /keyturn/keyturn-<id>, attaches it to %s, activates and announces',
    async (_, user, principal, other) => {
      const s = await approved({ user });

      expect(await applyGrant(s.deps, 'g1')).toBe('activated');

      expect(s.arn).toBe('arn:aws:iam::123456789012:policy/keyturn/keyturn-g1');
      expect(s.account.policy(s.arn)).toMatchObject({ name: 'keyturn-g1', path: '/keyturn/' });
      expect(s.account.attachedPolicies(principal)).toEqual([s.arn]);
      expect(s.account.attachedPolicies(other)).toEqual([]);
      const grant = await stored(s.grants);
      expect(grant).toMatchObject({ status: 'active', policyArn: s.arn, principal, version: 3 });
      expect(grant.history.map((h) => h.to)).toEqual(['pending', 'approved', 'active']);
      expect(grant.history[2]).toEqual({ at: APPROVED_AT, from: 'approved', to: 'active', by: 'keyturn' });
      expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: 2 }]);
    },
  );

  it('attaches exactly the document grantPolicy renders for the approved window', async () => {
    const s = await approved({ user: 'U0DAVE' });
    await applyGrant(s.deps, 'g1');

    const grant = await stored(s.grants);
    expect(grant).toMatchObject({ startsAt: APPROVED_AT, expiresAt: EXPIRES_AT });
    expect(s.account.policyDocument(s.arn)).toEqual(renderedFor(s.config, grant, prodRaspi));
  });

  it('really opens the fleet, only the fleet, only until expiry (evaluated by IAM rules)', async () => {
    const s = await approved();
    await applyGrant(s.deps, 'g1');

    expect(await s.account.evaluate(alice, RASPI_NODE, APPROVED_AT)).toBe('allowed');
    expect(await s.account.evaluate(alice, 'mi-0a1b2c3d4e5f60002', '2026-11-23T11:03:19Z')).toBe('allowed');
    expect(await s.account.evaluate(alice, STAGING_NODE, APPROVED_AT)).toBe('denied');
    expect(await s.account.evaluate(alice, RASPI_NODE, EXPIRES_AT)).toBe('denied');
    expect(await s.account.evaluate(alice, RASPI_NODE, '2026-11-23T10:03:19Z')).toBe('denied');
    expect(await s.account.evaluate(dave, RASPI_NODE, APPROVED_AT)).toBe('denied');
  });

  it('makes at most 3 IAM calls before asking IAM whether the access is in effect', async () => {
    const s = await approved();
    await applyGrant(s.deps, 'g1');

    const firstCheck = ops(s.account).indexOf('canStartSession');
    expect(firstCheck).toBeGreaterThan(0);
    expect(firstCheck).toBeLessThanOrEqual(3);
    // The quota check is one ListAttached*Policies call; the adapter caches GetAccountSummary.
    expect(ops(s.account).slice(0, firstCheck)).toEqual([
      'attachedPolicyQuota',
      'createPolicy',
      'attachPolicy',
    ]);
  });

  it('refuses, before creating anything, a principal already at the managed-policy quota', async () => {
    const s = await approved();
    s.account.setAttachedPoliciesQuota(0);
    expect(await applyGrant(s.deps, 'g1')).toBe('failed');
    await expectFailedAndClean(s, /already has 0 managed policies attached, the account's limit of 0/);
    expect(ops(s.account)).not.toContain('createPolicy');
  });

  it('tags the principal with the target’s Run As user and records it on the grant', async () => {
    const s = await approved({ target: { ...prodRaspi, runAs: 'pi-ops' } });
    expect(await applyGrant(s.deps, 'g1')).toBe('activated');
    expect(s.account.runAsTag(alice)).toBe('pi-ops');
    expect((await stored(s.grants)).runAsSet).toBe('pi-ops');
  });

  it.each([
    [
      'a target without runAs while a runAs: root grant is active (its sessions would run as root)',
      undefined,
      'root',
    ],
    [
      'a runAs: root target while a grant without runAs is active (those sessions would turn root)',
      'root',
      undefined,
    ],
    ['a runAs: pi-ops target while a runAs: root grant is active', 'pi-ops', 'root'],
  ])(
    'refuses %s: one Run As tag per principal covers every session of it',
    async (_label, runAs, otherRunAs) => {
      const s = await approved({ target: runAs ? { ...prodRaspi, runAs } : prodRaspi });
      const g1 = await stored(s.grants);
      const other: Grant = {
        ...g1,
        id: 'g0',
        target: 'staging-web',
        status: 'active',
        version: 1,
        ...(otherRunAs ? { runAsSet: otherRunAs } : {}),
      };
      s.grants.items.set(other.id, other);

      expect(await applyGrant(s.deps, 'g1')).toBe('failed');
      expect((await stored(s.grants)).failureReason).toMatch(/one Run As user per principal/);
      expect(ops(s.account)).not.toContain('createPolicy');
      expect(s.account.runAsTag(alice)).toBeUndefined();
    },
  );

  describe('two grants of one principal approved together, whose targets run as different users', () => {
    // Neither is active yet, so neither finds the other among the active grants: the one approved
    // first goes ahead, the other is refused, and the tag is never the loser's.
    const osaka: Target = { ...prodRaspi, tags: { Fleet: 'osaka-raspi' }, runAs: 'root' };
    async function twoApproved(otherDecidedAt: string) {
      const s = await approved({
        target: { ...prodRaspi, runAs: 'pi-ops' },
        others: { 'osaka-raspi': osaka },
      });
      const g1 = await stored(s.grants);
      s.grants.items.set('g0', { ...g1, id: 'g0', target: 'osaka-raspi', decidedAt: otherDecidedAt });
      return s;
    }

    it('refuses the one approved second, before creating anything', async () => {
      const s = await twoApproved('2026-11-23T10:00:00Z');
      expect(await applyGrant(s.deps, 'g1')).toBe('failed');
      expect((await stored(s.grants)).failureReason).toMatch(
        /is being given grant g0, approved first, whose sessions run as root, and this target's run as pi-ops/,
      );
      expect(ops(s.account)).not.toContain('createPolicy');
      expect(s.account.runAsTag(alice)).toBeUndefined();
    });

    it('applies the one approved first', async () => {
      const s = await twoApproved('2026-11-23T12:00:00Z');
      expect(await applyGrant(s.deps, 'g1')).toBe('activated');
      expect(s.account.runAsTag(alice)).toBe('pi-ops');
    });

    it('breaks a tie in approval time by grant id, so exactly one goes ahead', async () => {
      const s = await twoApproved(APPROVED_AT);
      expect((await stored(s.grants)).decidedAt).toBe(APPROVED_AT);
      // g0 sorts before g1.
      expect(await applyGrant(s.deps, 'g1')).toBe('failed');
    });
  });

  it('applies a grant whose Run As user is the one the active grant already set', async () => {
    const s = await approved({ target: { ...prodRaspi, runAs: 'pi-ops' } });
    const g1 = await stored(s.grants);
    s.grants.items.set('g0', {
      ...g1,
      id: 'g0',
      target: 'staging-web',
      status: 'active',
      runAsSet: 'pi-ops',
    });
    expect(await applyGrant(s.deps, 'g1')).toBe('activated');
  });

  it('removes the Run As tag it set when the grant fails', async () => {
    const s = await approved({ target: { ...prodRaspi, runAs: 'pi-ops' } });
    s.account.setPropagationDelay(1_000);
    expect(await applyGrant(s.deps, 'g1')).toBe('failed');
    expect(s.account.runAsTag(alice)).toBeUndefined();
  });

  it('polls with growing delays while IAM has not caught up, then activates', async () => {
    const s = await approved();
    s.account.setPropagationDelay(3);

    expect(await applyGrant(s.deps, 'g1')).toBe('activated');

    expect(s.clock.slept).toEqual([1_000, 2_000, 4_000]);
    expect(ops(s.account).filter((op) => op === 'canStartSession')).toHaveLength(4);
    expect(s.answers.filter((a) => a.op === 'canStartSession').map((a) => a.answer)).toEqual([
      false,
      false,
      false,
      true,
    ]);
    const grant = await stored(s.grants);
    expect(grant).toMatchObject({ status: 'active', policyArn: s.arn });
    // The window was fixed at approval: waiting does not move it.
    expect(s.account.policyDocument(s.arn)).toEqual(renderedFor(s.config, grant, prodRaspi));
    expect(grant.history.at(-1)?.at).toBe('2026-11-23T10:03:27Z');
  });

  it('gives up within readiness.maxWaitMs, fails the grant and removes the policy', async () => {
    const s = await approved();
    s.account.setPropagationDelay(1_000);

    expect(await applyGrant(s.deps, 'g1')).toBe('failed');

    const waited = s.clock.slept.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(READINESS.maxWaitMs);
    expect(waited).toBeGreaterThan(READINESS.maxWaitMs / 2);
    expect(s.clock.now().getTime() - Date.parse(APPROVED_AT)).toBeLessThanOrEqual(READINESS.maxWaitMs);
    for (let i = 1; i < s.clock.slept.length - 1; i++)
      expect(s.clock.slept[i]).toBeGreaterThan(s.clock.slept[i - 1]!);
    await expectFailedAndClean(s, /did not report the access as in effect/);
    expect(ops(s.account).slice(-2)).toEqual(['detachPolicy', 'deletePolicy']);
  });
});

describe('applyGrant: AWS refusing a step', () => {
  it('fails the grant and deletes the policy it created when the attach is refused', async () => {
    const s = await approved();
    s.account.failNext('attachPolicy', 'LimitExceeded');

    expect(await applyGrant(s.deps, 'g1')).toBe('failed');

    await expectFailedAndClean(
      s,
      /^AWS refused a step: Keyturn could not attach the grant policy to access role keyturn-u0alice \(LimitExceeded: an IAM quota is reached/,
    );
    expect(s.answers).toEqual([
      { op: 'createPolicy', answer: { arn: s.arn, created: true } },
      { op: 'detachPolicy', answer: 'already-gone' },
      { op: 'deletePolicy', answer: 'deleted' },
    ]);
  });

  it('fails the grant and leaves nothing when the create is refused', async () => {
    const s = await approved();
    s.account.failNext('createPolicy', 'Throttling');

    expect(await applyGrant(s.deps, 'g1')).toBe('failed');

    await expectFailedAndClean(
      s,
      /^AWS refused a step: Keyturn could not create the grant policy \(Throttling\)/,
    );
    expect(ops(s.account)).not.toContain('attachPolicy');
    expect(s.answers.map((a) => a.answer)).toEqual(['already-gone', 'already-gone']);
  });

  it('fails the grant when the readiness check itself is refused, and cleans up', async () => {
    const s = await approved();
    s.account.failNext('canStartSession', 'AccessDenied');

    expect(await applyGrant(s.deps, 'g1')).toBe('failed');

    await expectFailedAndClean(s, /AccessDenied/);
  });
  it("says which step AWS refused in Keyturn's words, never AWS's message (request ids, ARNs)", async () => {
    const s = await approved();
    const { access } = answering(s.account, async (op) => {
      if (op === 'attachPolicy')
        throw new AccessControlError(
          'AccessDenied',
          'IAM AttachRolePolicy failed with AccessDenied: User: arn:aws:sts::123456789012:assumed-role/keyturn-prod/x is not authorized (Request ID: 5f1c-77aa)',
        );
    });

    expect(await applyGrant({ ...s.deps, aws: onePlace({ access, fleet: s.account }) }, 'g1')).toBe('failed');

    await expectFailedAndClean(
      s,
      /^AWS refused a step: Keyturn could not attach the grant policy to access role keyturn-u0alice \(AccessDenied: Keyturn's role, an SCP or a permissions boundary does not allow it\); Keyturn's log has IAM's answer$/,
    );
    expect((await stored(s.grants)).failureReason).not.toMatch(/Request ID|not authorized|assumed-role/);
  });

  it('says which member account could not be reached and what to check', async () => {
    const s = await approved();
    const { access } = answering(s.account, async (op) => {
      if (op === 'createPolicy')
        throw new AccessControlError(
          'AccountUnreachable',
          "Keyturn could not assume arn:aws:iam::444455556666:role/keyturn-grantor in account 444455556666 (AccessDenied); check that the grantor template is deployed there and trusts Keyturn's role",
          { transient: true },
        );
    });

    expect(await applyGrant({ ...s.deps, aws: onePlace({ access, fleet: s.account }) }, 'g1')).toBe('failed');

    await expectFailedAndClean(
      s,
      /^AWS refused a step: Keyturn could not create the grant policy: Keyturn could not assume arn:aws:iam::444455556666:role\/keyturn-grantor in account 444455556666 \(AccessDenied\); check that the grantor template is deployed there/,
    );
  });
});

describe('applyGrant: a member account that cannot be reached', () => {
  it('tells the requester the grant failed even though its clean-up cannot reach the account either', async () => {
    const s = await approved();
    const unreachable = () =>
      new AccessControlError('AccountUnreachable', 'Keyturn could not assume the grantor role', {
        transient: true,
      });
    const { access } = answering(s.account, async () => {
      throw unreachable();
    });

    // The clean-up throws, so the job is retried; the announcement was queued before it.
    await expect(
      applyGrant({ ...s.deps, aws: onePlace({ access, fleet: s.account }) }, 'g1'),
    ).rejects.toMatchObject({
      code: 'AccountUnreachable',
    });
    const grant = await stored(s.grants);
    expect(grant.status).toBe('failed');
    expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: grant.history.length - 1 }]);
  });
});

describe('applyGrant: failures found before any IAM call', () => {
  it('fails a grant whose target left the configuration, creating nothing', async () => {
    const s = await approved();
    const withoutTarget = { ...s.deps, config: testConfig({ targets: {} }) };

    expect(await applyGrant(withoutTarget, 'g1')).toBe('failed');

    await expectFailedAndClean(s, /target prod-raspi is no longer in the configuration/);
    // Only the idempotent clean-up, in case an earlier attempt under the old config created the policy.
    expect(ops(s.account)).toEqual(['detachPolicy', 'deletePolicy']);
    expect(s.answers.map((a) => a.answer)).toEqual(['already-gone', 'already-gone']);
  });

  it('fails a grant whose policy would be over the size limit, naming the size, before CreatePolicy', async () => {
    const tags: Record<string, string> = {};
    for (let i = 0; i < 30; i++) tags[`Tag${String(i).padStart(2, '0')}`] = `${'v'.repeat(190)}${i}`;
    const s = await approved({ target: { ...prodRaspi, tags } });

    expect(await applyGrant(s.deps, 'g1')).toBe('failed');

    const grant = await stored(s.grants);
    const size = /the policy would be (\d+) characters, over IAM's 6144/.exec(grant.failureReason ?? '');
    expect(size).not.toBeNull();
    expect(Number(size![1])).toBeGreaterThan(6144);
    await expectFailedAndClean(s, /over IAM's 6144/);
    expect(ops(s.account)).not.toContain('createPolicy');
    expect(ops(s.account)).not.toContain('attachPolicy');
    expect(ops(s.account)).not.toContain('canStartSession');
    expect(s.answers.map((a) => a.answer)).toEqual(['already-gone', 'already-gone']);
  });
});

describe('applyGrant: redelivery and concurrent workers', () => {
  it('skips a redelivered job once the grant is active: one policy, one activation', async () => {
    const s = await approved();

    expect(await applyGrant(s.deps, 'g1')).toBe('activated');
    const callsAfterFirst = s.account.calls.length;
    expect(await applyGrant(s.deps, 'g1')).toBe('skipped');

    expect(s.account.calls.length).toBe(callsAfterFirst);
    expect(s.answers.filter((a) => a.op === 'createPolicy')).toEqual([
      { op: 'createPolicy', answer: { arn: s.arn, created: true } },
    ]);
    const grant = await stored(s.grants);
    expect(grant.history.filter((h) => h.to === 'active')).toHaveLength(1);
    expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: 2 }]);
  });

  it('lets exactly one of 5 concurrent workers activate the grant', async () => {
    const s = await approved();

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => applyGrant(s.deps, 'g1')));

    expect(outcomes.filter((o) => o === 'activated')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(4);
    expect(
      s.answers.filter((a) => a.op === 'createPolicy' && (a.answer as { created: boolean }).created),
    ).toHaveLength(1);
    expect(keyturnPolicies(s.account)).toEqual([s.arn]);
    expect(s.account.attachedPolicies(alice)).toEqual([s.arn]);
    const grant = await stored(s.grants);
    expect(grant.status).toBe('active');
    expect(grant.history.map((h) => h.to)).toEqual(['pending', 'approved', 'active']);
    expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: 2 }]);
  });

  it('converges when an earlier attempt created the policy and crashed', async () => {
    const s = await approved();
    const grant = await stored(s.grants);
    await s.account.createPolicy({
      name: policyName('g1'),
      path: POLICY_PATH,
      description: 'left by a crashed attempt',
      document: renderedFor(s.config, grant, prodRaspi),
      tags: {},
    });

    expect(await applyGrant(s.deps, 'g1')).toBe('activated');

    expect(s.answers[0]).toEqual({ op: 'createPolicy', answer: { arn: s.arn, created: false } });
    expect(keyturnPolicies(s.account)).toEqual([s.arn]);
    expect(s.account.attachedPolicies(alice)).toEqual([s.arn]);
    expect(await stored(s.grants)).toMatchObject({ status: 'active', policyArn: s.arn });
  });

  it('converges when an earlier attempt also attached the policy before crashing', async () => {
    const s = await approved();
    const grant = await stored(s.grants);
    const { arn } = await s.account.createPolicy({
      name: policyName('g1'),
      path: POLICY_PATH,
      description: 'left by a crashed attempt',
      document: renderedFor(s.config, grant, prodRaspi),
      tags: {},
    });
    await s.account.attachPolicy(alice, arn);

    expect(await applyGrant(s.deps, 'g1')).toBe('activated');

    expect(s.account.attachedPolicies(alice)).toEqual([s.arn]);
    expect(await stored(s.grants)).toMatchObject({ status: 'active', policyArn: s.arn });
  });

  it('repeats the clean-up of a failed grant harmlessly on redelivery', async () => {
    const s = await approved();
    s.account.failNext('attachPolicy', 'LimitExceeded');
    expect(await applyGrant(s.deps, 'g1')).toBe('failed');
    const failed = await stored(s.grants);
    s.answers.length = 0;
    s.queue.jobs.length = 0;
    const callsBefore = s.account.calls.length;

    await expect(applyGrant(s.deps, 'g1')).resolves.toBe('skipped');

    expect(ops(s.account).slice(callsBefore)).toEqual(['detachPolicy', 'deletePolicy']);
    expect(s.answers).toEqual([
      { op: 'detachPolicy', answer: 'already-gone' },
      { op: 'deletePolicy', answer: 'already-gone' },
    ]);
    expect(await stored(s.grants)).toEqual(failed);
    // Re-announced with the same step, which the announcement's one-time DM claim absorbs.
    expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: failed.history.length - 1 }]);
  });

  it.each([
    ['activate', 0],
    ['fail on readiness', 1_000],
  ])(
    'does not leave a policy behind when it tries to %s after another worker failed the grant',
    async (_, propagation) => {
      const s = await approved();
      // Worker B reads the approved grant, then is held before CreatePolicy while worker A fails the grant
      // and cleans up; B then creates and attaches a fresh policy for a grant that is already failed.
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reachedCreate!: () => void;
      const atCreate = new Promise<void>((resolve) => {
        reachedCreate = resolve;
      });
      const late = answering(s.account, async (op) => {
        if (op !== 'createPolicy') return;
        reachedCreate();
        await held;
      });
      const workerB = applyGrant(
        { ...s.deps, aws: onePlace({ access: late.access, fleet: s.account }) },
        'g1',
      );
      await atCreate;

      s.account.failNext('attachPolicy', 'LimitExceeded');
      expect(await applyGrant(s.deps, 'g1')).toBe('failed');
      expect(keyturnPolicies(s.account)).toEqual([]);
      s.account.setPropagationDelay(propagation);
      release();

      expect(await workerB).toBe('skipped');
      expect((await stored(s.grants)).status).toBe('failed');
      expect(s.account.attachedPolicies(alice)).toEqual([]);
      expect(keyturnPolicies(s.account)).toEqual([]);
    },
  );
});

describe('applyGrant: bookkeeping written while it works', () => {
  it('still activates when the card reference is stored between its read and its save', async () => {
    const s = await approved();
    // The post-request-card job stores the card reference (a version bump, no status change) mid-apply.
    const { access } = answering(s.account, async (op) => {
      if (op !== 'attachPolicy') return;
      await transitionlessUpdate(s.grants, 'g1', (g) => ({
        ...g,
        card: { channel: 'C0APPROVALS', ts: '1.000001' },
      }));
    });
    expect(await applyGrant({ ...s.deps, aws: onePlace({ access, fleet: s.account }) }, 'g1')).toBe(
      'activated',
    );
    const grant = await stored(s.grants);
    expect(grant.status).toBe('active');
    expect(grant.card).toEqual({ channel: 'C0APPROVALS', ts: '1.000001' });
    expect(s.account.attachedPolicies(alice)).toEqual([s.arn]);
  });
});

describe('applyGrant: grants that are not approved', () => {
  it('skips an unknown grant without touching IAM', async () => {
    const s = await approved();
    expect(await applyGrant(s.deps, 'nope')).toBe('skipped');
    expect(s.account.calls).toEqual([]);
  });

  it('skips a pending grant without touching IAM', async () => {
    const grants = new MemoryGrantStore();
    const s = await approved();
    const deps = { ...s.deps, grants, newId: () => 'p1' };
    await requestAccess(deps, { user: 'U0BOB', text: 'prod-raspi 1h look' });
    const before = await grants.get('p1');

    expect(await applyGrant(deps, 'p1')).toBe('skipped');

    expect(s.account.calls).toEqual([]);
    expect(await grants.get('p1')).toEqual(before);
  });

  it('skips a denied grant without touching IAM', async () => {
    const grants = new MemoryGrantStore();
    const s = await approved();
    const deps = { ...s.deps, grants, newId: () => 'd1' };
    await requestAccess(deps, { user: 'U0BOB', text: 'prod-raspi 1h look' });
    await decideOnGrant(deps, { grantId: 'd1', clicker: 'U0CAROL', action: 'deny' });
    s.queue.jobs.length = 0;

    expect(await applyGrant(deps, 'd1')).toBe('skipped');

    expect(s.account.calls).toEqual([]);
    expect(s.queue.jobs).toEqual([]);
    expect((await grants.get('d1'))?.status).toBe('denied');
  });

  it('skips an active grant without touching IAM', async () => {
    const s = await approved();
    await applyGrant(s.deps, 'g1');
    const active = await stored(s.grants);
    s.account.calls.length = 0;
    s.queue.jobs.length = 0;

    expect(await applyGrant(s.deps, 'g1')).toBe('skipped');

    expect(s.account.calls).toEqual([]);
    expect(s.queue.jobs).toEqual([]);
    expect(await stored(s.grants)).toEqual(active);
  });
});

describe('applyGrant in an organisation', () => {
  it('refuses, before any IAM call, a grant attaching to an attach: direct person’s own user in a member account', async () => {
    const config = orgConfig();
    const clock = new ManualClock(new Date(APPROVED_AT));
    const grants = new MemoryGrantStore();
    const account = new SimulatedAccount({ accountId: FACTORY, region: 'ap-northeast-3', nodes: [], clock });
    const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
    const deps = {
      config,
      grants,
      queue: new RecordingQueue(),
      aws: onePlace({ access: account, fleet: account }),
      clock,
      chat,
      logger: silentLogger,
      newId: () => 'g1',
      readiness: READINESS,
    } satisfies Partial<Deps>;
    // Not something the request lets through (request-access.ts): the worker does not trust the table to say so.
    await grants.create({
      id: 'g1',
      requester: 'U0ERIN',
      principal: { kind: 'user', name: 'erin', path: '/engineering/' },
      target: 'osaka-raspi',
      account: FACTORY,
      region: 'ap-northeast-3',
      durationMinutes: 60,
      reason: 'swap a sensor',
      status: 'approved',
      version: 2,
      requestedAt: REQUESTED_AT,
      approvals: [{ by: 'U0CAROL', at: APPROVED_AT }],
      decidedBy: 'U0CAROL',
      decidedAt: APPROVED_AT,
      startsAt: APPROVED_AT,
      expiresAt: EXPIRES_AT,
      history: [
        { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ERIN' },
        { at: APPROVED_AT, from: 'pending', to: 'approved', by: 'U0CAROL' },
      ],
    });

    await applyGrant(deps, 'g1');

    expect(account.calls).toEqual([]);
    const grant = await stored(grants);
    expect(grant.status).toBe('failed');
    expect(grant.failureReason).toMatch(
      /IAM user erin \(attach: direct\), which is in Keyturn's account 123456789012/,
    );
    expect(chat.audits).toEqual([
      expect.objectContaining({ event: expect.objectContaining({ kind: 'grant-refused', step: 'apply' }) }),
    ]);
  });
});
