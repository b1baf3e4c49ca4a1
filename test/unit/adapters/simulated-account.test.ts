import { renderBoundary } from '../../../src/domain/boundary';
import type { Person } from '../../../src/domain/person';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import type { SandboxNode } from '../../../src/config/types';
import { nodeArn } from '../../../src/domain/node';
import { POLICY_PATH, policyName, renderGrantPolicy } from '../../../src/domain/policy';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import { ownsSession, type Principal } from '../../../src/domain/principal';
import { AccessControlError } from '../../../src/ports/access-control';
import type { SessionInfo } from '../../../src/ports/fleet';
import { ManualClock } from '../../support/fakes';

const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-1';
const STARTS = '2026-11-02T13:00:00Z';
const EXPIRES = '2026-11-02T14:00:00Z';
const IN_WINDOW = '2026-11-02T13:30:00.000Z';
const AFTER_EXPIRY = '2026-11-02T14:00:01.000Z';

const raspi: SandboxNode = {
  id: 'mi-0a1b2c3d4e5f60001',
  name: 'raspi-line-1',
  tags: { Fleet: 'prod-raspi' },
  ping: 'Online',
};
const raspiOffline: SandboxNode = {
  id: 'mi-0a1b2c3d4e5f60002',
  name: 'raspi-line-2',
  tags: { Fleet: 'prod-raspi', Site: 'osaka' },
  ping: 'ConnectionLost',
};
const web: SandboxNode = {
  id: 'i-0123456789abcdef0',
  name: 'web-1',
  tags: { Fleet: 'staging-web' },
  ping: 'Online',
};

const alice: Principal = { kind: 'user', name: 'alice' };
const dave: Principal = { kind: 'role', name: 'oncall-dave' };

/** The policy an approval really attaches, so these tests also check it against a real evaluator. */
function grantPolicy(
  tags: Record<string, string> = { Fleet: 'prod-raspi' },
  expiresAt = EXPIRES,
): PolicyDocument {
  const rendered = renderGrantPolicy({
    accountId: ACCOUNT,
    region: REGION,
    target: { tags, documents: ['shell', 'ssh'] },
    startsAt: STARTS,
    expiresAt,
  });
  if (!rendered.ok) throw new Error(`grant policy did not render: ${JSON.stringify(rendered.error)}`);
  return rendered.value;
}

function newAccount(): { account: SimulatedAccount; clock: ManualClock } {
  const clock = new ManualClock(new Date(IN_WINDOW));
  const account = new SimulatedAccount({
    accountId: ACCOUNT,
    region: REGION,
    nodes: [raspi, raspiOffline, web],
    clock,
  });
  return { account, clock };
}

async function grant(account: SimulatedAccount, principal: Principal, id = 'a1b2'): Promise<string> {
  const { arn } = await account.createPolicy({
    name: policyName(id),
    path: POLICY_PATH,
    description: `grant ${id}`,
    document: grantPolicy(),
    tags: { 'keyturn:grant': id },
  });
  await account.attachPolicy(principal, arn);
  return arn;
}

const raspiCheck = (at: string) => ({
  nodeArn: nodeArn({ partition: 'aws', region: REGION, accountId: ACCOUNT }, raspi.id),
  tags: raspi.tags,
  at,
});

describe('policies and attachments, as IAM keeps them', () => {
  it('creates a policy under its path and answers created:false for the same name again', async () => {
    const { account } = newAccount();
    const input = {
      name: 'keyturn-a1b2',
      path: '/keyturn/',
      description: 'd',
      document: grantPolicy(),
      tags: {},
    };

    const first = await account.createPolicy(input);
    const again = await account.createPolicy({ ...input, description: 'retried' });

    expect(first).toEqual({ arn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-a1b2`, created: true });
    expect(again).toEqual({ arn: first.arn, created: false });
    expect(account.policy(first.arn)?.description).toBe('d');
    expect(account.policyDocument(first.arn)).toEqual(grantPolicy());
  });

  it('stores a copy: changing the document passed in changes nothing in the account', async () => {
    const { account } = newAccount();
    const document = grantPolicy();
    const { arn } = await account.createPolicy({ name: 'p', path: '/', description: '', document, tags: {} });

    document.Statement.length = 0;

    expect(account.policyDocument(arn)?.Statement.length).toBeGreaterThan(0);
  });

  it('refuses a policy over 6,144 characters with LimitExceeded', async () => {
    const { account } = newAccount();
    const document: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: `arn:aws:ssm:*:*:document/${'x'.repeat(6200)}`,
        },
      ],
    };

    await expect(
      account.createPolicy({ name: 'big', path: '/', description: '', document, tags: {} }),
    ).rejects.toMatchObject({ code: 'LimitExceeded' });
    expect(account.policyArns()).toEqual([]);
  });

  it('throws NoSuchEntity when attaching a policy that does not exist', async () => {
    const { account } = newAccount();

    await expect(
      account.attachPolicy(alice, `arn:aws:iam::${ACCOUNT}:policy/keyturn/nope`),
    ).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'NoSuchEntity',
    });
  });

  it('attaches idempotently and lists what a principal holds', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);

    await account.attachPolicy(alice, arn);

    expect(account.attachedPolicies(alice)).toEqual([arn]);
    expect(account.attachedPolicies(dave)).toEqual([]);
  });

  it('enforces the attached-policies quota with LimitExceeded', async () => {
    const clock = new ManualClock(new Date(IN_WINDOW));
    const account = new SimulatedAccount({
      accountId: ACCOUNT,
      region: REGION,
      nodes: [],
      clock,
      attachedPoliciesQuota: 1,
    });
    await grant(account, alice, 'one');

    await expect(grant(account, alice, 'two')).rejects.toMatchObject({ code: 'LimitExceeded' });
    expect(account.attachedPolicies(alice)).toHaveLength(1);
  });

  it('refuses to delete an attached policy with DeleteConflict, then deletes it once detached', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);

    await expect(account.deletePolicy(arn)).rejects.toMatchObject({ code: 'DeleteConflict' });
    await expect(account.detachPolicy(alice, arn)).resolves.toBe('detached');
    await expect(account.deletePolicy(arn)).resolves.toBe('deleted');
    expect(account.policyDocument(arn)).toBeUndefined();
  });

  it('answers already-gone for detaching or deleting what is not there', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    await account.detachPolicy(alice, arn);
    await account.deletePolicy(arn);

    await expect(account.detachPolicy(alice, arn)).resolves.toBe('already-gone');
    await expect(account.deletePolicy(arn)).resolves.toBe('already-gone');
  });

  it('logs every call, failed ones included, so tests can count IAM round trips', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    await account.deletePolicy(arn).catch(() => undefined);

    expect(account.calls.map((c) => c.op)).toEqual(['createPolicy', 'attachPolicy', 'deletePolicy']);
    expect(account.calls[1]?.args).toEqual([alice, arn]);
  });
});

describe('failNext', () => {
  it('makes exactly the next call of that operation throw the IAM code given', async () => {
    const { account } = newAccount();
    const { arn } = await account.createPolicy({
      name: 'keyturn-a1b2',
      path: POLICY_PATH,
      description: '',
      document: grantPolicy(),
      tags: {},
    });
    account.failNext('attachPolicy', 'Throttling');

    const error = await account.attachPolicy(alice, arn).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({ code: 'Throttling' });
    expect(account.attachedPolicies(alice)).toEqual([]);
    await expect(account.attachPolicy(alice, arn)).resolves.toBeUndefined();
    expect(account.attachedPolicies(alice)).toEqual([arn]);
  });

  it('queues failures per operation and leaves other operations alone', async () => {
    const { account } = newAccount();
    account.failNext('createPolicy', 'LimitExceeded');
    account.failNext('createPolicy', 'ServiceFailure');
    const input = { name: 'p', path: '/', description: '', document: grantPolicy(), tags: {} };

    await expect(account.detachPolicy(alice, 'arn:aws:iam::123456789012:policy/p')).resolves.toBe(
      'already-gone',
    );
    await expect(account.createPolicy(input)).rejects.toMatchObject({ code: 'LimitExceeded' });
    await expect(account.createPolicy(input)).rejects.toMatchObject({ code: 'ServiceFailure' });
    await expect(account.createPolicy(input)).resolves.toMatchObject({ created: true });
  });
});

describe('canStartSession, evaluated by a real IAM policy evaluator', () => {
  it('is false before any grant', async () => {
    const { account } = newAccount();

    await expect(account.canStartSession(alice, raspiCheck(IN_WINDOW))).resolves.toBe(false);
  });

  it('is true on a node of the granted fleet inside the window', async () => {
    const { account } = newAccount();
    await grant(account, alice);

    await expect(account.canStartSession(alice, raspiCheck(IN_WINDOW))).resolves.toBe(true);
  });

  it('is false on a node of another fleet', async () => {
    const { account } = newAccount();
    await grant(account, alice);

    const check = {
      nodeArn: nodeArn({ partition: 'aws', region: REGION, accountId: ACCOUNT }, web.id),
      tags: web.tags,
      at: IN_WINDOW,
    };
    await expect(account.canStartSession(alice, check)).resolves.toBe(false);
  });

  it('is false after expiry and before the start, with the policy still attached', async () => {
    const { account } = newAccount();
    await grant(account, alice);

    await expect(account.canStartSession(alice, raspiCheck(AFTER_EXPIRY))).resolves.toBe(false);
    await expect(account.canStartSession(alice, raspiCheck('2026-11-02T12:59:59.000Z'))).resolves.toBe(false);
  });

  it('is false for another principal and after the policy is detached', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);

    await expect(account.canStartSession(dave, raspiCheck(IN_WINDOW))).resolves.toBe(false);
    await account.detachPolicy(alice, arn);
    await expect(account.canStartSession(alice, raspiCheck(IN_WINDOW))).resolves.toBe(false);
  });

  it('works for a role as for a user', async () => {
    const { account } = newAccount();
    await grant(account, dave);

    await expect(account.canStartSession(dave, raspiCheck(IN_WINDOW))).resolves.toBe(true);
  });

  it('simulates IAM propagation: false for the first n checks after an attach, then true', async () => {
    const { account } = newAccount();
    account.setPropagationDelay(2);
    await grant(account, alice);

    const answers: boolean[] = [];
    for (let i = 0; i < 3; i++) answers.push(await account.canStartSession(alice, raspiCheck(IN_WINDOW)));

    expect(answers).toEqual([false, false, true]);
  });

  it('can be made to fail once like any IAM call', async () => {
    const { account } = newAccount();
    account.failNext('canStartSession', 'Throttling');

    await expect(account.canStartSession(alice, raspiCheck(IN_WINDOW))).rejects.toMatchObject({
      code: 'Throttling',
    });
  });
});

describe('evaluate and decide (for the sandbox page)', () => {
  it('evaluates a configured node with its own tags, at the given time or the clock', async () => {
    const { account, clock } = newAccount();
    await grant(account, alice);

    await expect(account.evaluate(alice, raspi.id, IN_WINDOW)).resolves.toBe('allowed');
    await expect(account.evaluate(alice, raspiOffline.id)).resolves.toBe('allowed');
    await expect(account.evaluate(alice, web.id)).resolves.toBe('denied');
    await expect(account.evaluate(alice, 'mi-unknown')).resolves.toBe('denied');
    clock.set(AFTER_EXPIRY);
    await expect(account.evaluate(alice, raspi.id)).resolves.toBe('denied');
  });

  it('sees an attach at once even while canStartSession still lags', async () => {
    const { account } = newAccount();
    account.setPropagationDelay(5);
    await grant(account, alice);

    await expect(account.evaluate(alice, raspi.id)).resolves.toBe('allowed');
    await expect(account.canStartSession(alice, raspiCheck(IN_WINDOW))).resolves.toBe(false);
  });

  it('lets a user and a role session terminate only the sessions they started (session-id tag)', async () => {
    const { account } = newAccount();
    await grant(account, alice, 'a1');
    await grant(account, dave, 'd1');
    const aliceSession = await account.startSession(alice, raspi.id);
    const daveSession = await account.startSession(dave, raspi.id);
    if (!aliceSession.ok || !daveSession.ok) throw new Error('sessions did not start');
    const arn = (id: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${id}`;
    const terminate = (p: Principal, id: string) =>
      account.decide(p, { action: 'ssm:TerminateSession', resource: arn(id) });

    await expect(terminate(alice, aliceSession.session.id)).resolves.toBe('allowed');
    await expect(terminate(alice, daveSession.session.id)).resolves.toBe('denied');
    await expect(terminate(dave, daveSession.session.id)).resolves.toBe('allowed');
    await expect(terminate(dave, aliceSession.session.id)).resolves.toBe('denied');
  });
});

describe('nodesTagged', () => {
  it('returns the configured nodes carrying every tag, with name and ping', async () => {
    const { account } = newAccount();

    await expect(account.nodesTagged({ Fleet: 'prod-raspi' })).resolves.toEqual([
      { id: raspi.id, name: 'raspi-line-1', ping: 'Online' },
      { id: raspiOffline.id, name: 'raspi-line-2', ping: 'ConnectionLost' },
    ]);
    await expect(account.nodesTagged({ Fleet: 'prod-raspi', Site: 'osaka' })).resolves.toEqual([
      { id: raspiOffline.id, name: 'raspi-line-2', ping: 'ConnectionLost' },
    ]);
    await expect(account.nodesTagged({ Fleet: 'nowhere' })).resolves.toEqual([]);
  });
});

describe('createPolicyVersion', () => {
  const EXTENDED = '2026-11-02T15:00:00Z';

  it('makes the new document the default, which evaluation then uses', async () => {
    const { account, clock } = newAccount();
    const arn = await grant(account, alice);
    clock.set(AFTER_EXPIRY);
    await expect(account.evaluate(alice, raspi.id)).resolves.toBe('denied');

    await account.createPolicyVersion(arn, grantPolicy(undefined, EXTENDED));

    expect(account.policyDocument(arn)).toEqual(grantPolicy(undefined, EXTENDED));
    expect(account.policy(arn)?.versions.map((v) => [v.versionId, v.isDefault])).toEqual([
      ['v1', false],
      ['v2', true],
    ]);
    await expect(account.evaluate(alice, raspi.id)).resolves.toBe('allowed');
    await expect(account.canStartSession(alice, raspiCheck(AFTER_EXPIRY))).resolves.toBe(true);
  });

  it('keeps 5 versions at most by deleting the oldest non-default one, never reusing a number', async () => {
    const { account, clock } = newAccount();
    const arn = await grant(account, alice);

    for (let i = 0; i < 6; i++) {
      clock.advance(60_000);
      await account.createPolicyVersion(arn, grantPolicy(undefined, `2026-11-02T15:0${i}:00Z`));
    }

    const versions = account.policy(arn)?.versions ?? [];
    expect(versions.map((v) => v.versionId)).toEqual(['v3', 'v4', 'v5', 'v6', 'v7']);
    expect(versions.filter((v) => v.isDefault).map((v) => v.versionId)).toEqual(['v7']);
    expect(account.policyDocument(arn)).toEqual(grantPolicy(undefined, '2026-11-02T15:05:00Z'));
    // One port call each: the room-making is the adapter's, not an extra call.
    expect(account.calls.filter((c) => c.op === 'createPolicyVersion')).toHaveLength(6);
  });

  it('breaks a CreateDate tie by version number, v9 before v10', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);

    // All in the same instant; by name, 'v10' would sort before 'v8' and the wrong version would go.
    for (let i = 0; i < 12; i++) await account.createPolicyVersion(arn, grantPolicy());

    expect(account.policy(arn)?.versions.map((v) => v.versionId)).toEqual(['v9', 'v10', 'v11', 'v12', 'v13']);
  });

  it('throws NoSuchEntity for a policy that does not exist', async () => {
    const { account } = newAccount();

    await expect(
      account.createPolicyVersion(`arn:aws:iam::${ACCOUNT}:policy/keyturn/nope`, grantPolicy()),
    ).rejects.toMatchObject({ name: 'AccessControlError', code: 'NoSuchEntity' });
  });

  it('refuses an oversized document with LimitExceeded and keeps the default', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    const big: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: `arn:x:${'x'.repeat(6200)}` }],
    };

    await expect(account.createPolicyVersion(arn, big)).rejects.toMatchObject({ code: 'LimitExceeded' });
    expect(account.policyDocument(arn)).toEqual(grantPolicy());
  });

  it('lets deletePolicy remove a policy with several versions once detached', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    await account.createPolicyVersion(arn, grantPolicy(undefined, EXTENDED));
    await account.detachPolicy(alice, arn);

    await expect(account.deletePolicy(arn)).resolves.toBe('deleted');
    expect(account.policyArns()).toEqual([]);
  });
});

describe('listPolicies, detachFromAll and attachedPolicyQuota', () => {
  it('lists the policies under a path prefix', async () => {
    const { account } = newAccount();
    const a = await grant(account, alice, 'a1');
    const b = await grant(account, dave, 'b2');
    await account.createPolicy({
      name: 'other',
      path: '/team/',
      description: '',
      document: grantPolicy(),
      tags: {},
    });

    await expect(account.listPolicies('/keyturn/')).resolves.toEqual([
      { arn: a, name: 'keyturn-a1' },
      { arn: b, name: 'keyturn-b2' },
    ]);
    await expect(account.listPolicies('/')).resolves.toHaveLength(3);
    await expect(account.listPolicies('/nothing/')).resolves.toEqual([]);
  });

  it('detaches a policy from everyone holding it and says who that was', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    await account.attachPolicy(dave, arn);
    const other = await grant(account, alice, 'other');

    await expect(account.detachFromAll(arn)).resolves.toEqual([
      { kind: 'user', name: 'alice' },
      { kind: 'role', name: 'oncall-dave' },
    ]);
    expect(account.attachedPolicies(alice)).toEqual([other]);
    expect(account.attachedPolicies(dave)).toEqual([]);
    await expect(account.deletePolicy(arn)).resolves.toBe('deleted');
    await expect(account.detachFromAll(arn)).resolves.toEqual([]);
  });

  it('counts attached policies against a quota of 10 by default, which can be changed', async () => {
    const { account } = newAccount();
    const one = await grant(account, alice, 'one');
    const two = await grant(account, alice, 'two');

    await expect(account.attachedPolicyQuota(alice)).resolves.toEqual({ attached: [one, two], quota: 10 });
    await expect(account.attachedPolicyQuota(dave)).resolves.toEqual({ attached: [], quota: 10 });

    account.setAttachedPoliciesQuota(2);
    await expect(account.attachedPolicyQuota(alice)).resolves.toEqual({ attached: [one, two], quota: 2 });
    await expect(grant(account, alice, 'three')).rejects.toMatchObject({ code: 'LimitExceeded' });
  });
});

describe('Run As tag', () => {
  it('sets, overwrites and clears SSMSessionRunAs per principal', async () => {
    const { account } = newAccount();

    await account.setRunAs(alice, 'pi-ops');
    await account.setRunAs(dave, 'ec2-user');
    await account.setRunAs(alice, 'pi-admin');
    expect(account.runAsTag(alice)).toBe('pi-admin');
    expect(account.runAsTag(dave)).toBe('ec2-user');

    await account.clearRunAs(alice);
    await account.clearRunAs(alice);
    expect(account.runAsTag(alice)).toBeUndefined();
    expect(account.runAsTag(dave)).toBe('ec2-user');
    expect(account.calls.map((c) => c.op)).toEqual([
      'setRunAs',
      'setRunAs',
      'setRunAs',
      'clearRunAs',
      'clearRunAs',
    ]);
  });
});

describe('failNext on the new operations', () => {
  it('throws AccessControlError for IAM operations and leaves state unchanged', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    account.failNext('createPolicyVersion', 'Throttling');
    account.failNext('setRunAs', 'Throttling');
    account.failNext('detachFromAll', 'ServiceFailure');

    await expect(
      account.createPolicyVersion(arn, grantPolicy(undefined, '2026-11-02T15:00:00Z')),
    ).rejects.toBeInstanceOf(AccessControlError);
    await expect(account.setRunAs(alice, 'pi-ops')).rejects.toMatchObject({ code: 'Throttling' });
    await expect(account.detachFromAll(arn)).rejects.toMatchObject({ code: 'ServiceFailure' });

    expect(account.policy(arn)?.versions).toHaveLength(1);
    expect(account.runAsTag(alice)).toBeUndefined();
    expect(account.attachedPolicies(alice)).toEqual([arn]);
  });

  it('throws what the SSM adapter throws for Fleet operations, and the session survives', async () => {
    const { account } = newAccount();
    await grant(account, alice);
    const session = await opened(account, alice);
    account.failNext('terminateSession', 'InternalServerError');
    account.failNext('activeSessions', 'ThrottlingException');

    const error = await account.terminateSession(session.id).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({
      message: 'SSM TerminateSession failed with InternalServerError',
      cause: { name: 'InternalServerError' },
    });
    await expect(account.activeSessions()).rejects.toThrow(
      'SSM DescribeSessions failed with ThrottlingException',
    );
    await expect(account.activeSessions()).resolves.toHaveLength(1);
  });
});

/** Starts a session that the test's setup expects to be allowed. */
async function opened(
  account: SimulatedAccount,
  principal: Principal,
  nodeId = raspi.id,
): Promise<SessionInfo> {
  const started = await account.startSession(principal, nodeId);
  if (!started.ok) throw new Error(`setup: session refused with ${started.reason}`);
  return started.session;
}

describe('sessions', () => {
  const sessionArn = (id: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${id}`;

  it('refuses a session before any grant, and on an unknown node', async () => {
    const { account } = newAccount();

    await expect(account.startSession(alice, raspi.id)).resolves.toEqual({
      ok: false,
      reason: 'access-denied',
    });
    await expect(account.startSession(alice, 'mi-unknown')).resolves.toEqual({
      ok: false,
      reason: 'unknown-node',
    });
    await expect(account.activeSessions()).resolves.toEqual([]);
  });

  it("opens a user's session, owned by the user ARN, with an id their grant lets them end", async () => {
    const { account } = newAccount();
    await grant(account, alice);

    const started = await account.startSession(alice, raspi.id);

    expect(started).toEqual({
      ok: true,
      session: {
        id: expect.stringMatching(/^alice-[0-9a-f]{17}$/),
        owner: `arn:aws:iam::${ACCOUNT}:user/alice`,
        target: raspi.id,
        startedAt: IN_WINDOW,
        document: 'SSM-SessionManagerRunShell',
        status: 'Connected',
      },
    });
    if (!started.ok) return;
    await expect(account.activeSessions()).resolves.toEqual([started.session]);
    await expect(
      account.decide(alice, { action: 'ssm:TerminateSession', resource: sessionArn(started.session.id) }),
    ).resolves.toBe('allowed');
    // The user's own API call, not Keyturn's: the port-call log stays about Keyturn.
    expect(account.calls.map((c) => c.op)).toEqual(['createPolicy', 'attachPolicy', 'activeSessions']);
  });

  it("opens a role's session, owned by the assumed-role ARN, with an id starting with the session name", async () => {
    const { account } = newAccount();
    await grant(account, dave);

    const started = await account.startSession(dave, raspi.id, 'AWS-StartSSHSession');

    if (!started.ok) throw new Error(`expected a session, got ${started.reason}`);
    expect(started.session.owner).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/oncall-dave/oncall-dave`);
    // A role session's id starts with its session name (FACTS.md: `Matt-07a16060613c408b5`).
    expect(started.session.id.startsWith('oncall-dave-')).toBe(true);
    expect(started.session.document).toBe('AWS-StartSSHSession');
    expect(ownsSession({ partition: 'aws', accountId: ACCOUNT }, dave, started.session.owner)).toBe(true);
    expect(ownsSession({ partition: 'aws', accountId: ACCOUNT }, alice, started.session.owner)).toBe(false);
    await expect(
      account.decide(dave, { action: 'ssm:TerminateSession', resource: sessionArn(started.session.id) }),
    ).resolves.toBe('allowed');
  });

  it('refuses outside the window, on another fleet, and with a document the grant does not permit', async () => {
    const { account, clock } = newAccount();
    await grant(account, alice);

    await expect(account.startSession(alice, web.id)).resolves.toEqual({
      ok: false,
      reason: 'access-denied',
    });
    await expect(account.startSession(alice, raspi.id, 'AWS-StartPortForwardingSession')).resolves.toEqual({
      ok: false,
      reason: 'access-denied',
    });
    clock.set(AFTER_EXPIRY);
    await expect(account.startSession(alice, raspi.id)).resolves.toEqual({
      ok: false,
      reason: 'access-denied',
    });
  });

  it('needs the document allowed as well as the node, as AWS does', async () => {
    const { account } = newAccount();
    const nodeOnly: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:managed-instance/*`,
          Condition: { StringEquals: { 'ssm:resourceTag/Fleet': 'prod-raspi' } },
        },
      ],
    };
    const { arn } = await account.createPolicy({
      name: 'node-only',
      path: '/',
      description: '',
      document: nodeOnly,
      tags: {},
    });
    await account.attachPolicy(alice, arn);

    await expect(account.evaluate(alice, raspi.id)).resolves.toBe('allowed');
    await expect(account.startSession(alice, raspi.id)).resolves.toEqual({
      ok: false,
      reason: 'access-denied',
    });
  });

  it('refuses a node whose agent is not connected, only after authorizing', async () => {
    const { account } = newAccount();

    await expect(account.startSession(alice, raspiOffline.id)).resolves.toEqual({
      ok: false,
      reason: 'access-denied',
    });
    await grant(account, alice);
    await expect(account.startSession(alice, raspiOffline.id)).resolves.toEqual({
      ok: false,
      reason: 'target-not-connected',
    });
  });

  it('keeps an open session open after the policy is detached, as Session Manager does', async () => {
    const { account } = newAccount();
    const arn = await grant(account, alice);
    const session = await opened(account, alice);
    await account.detachPolicy(alice, arn);

    await expect(account.activeSessions()).resolves.toEqual([session]);
  });

  it('ends a session on exit with no API call, into the history with its end time', async () => {
    const { account, clock } = newAccount();
    await grant(account, alice);
    const session = await opened(account, alice);
    const callsBefore = account.calls.length;
    clock.set('2026-11-02T13:45:00Z');

    expect(account.exitSession(session.id)).toBe(true);
    expect(account.exitSession(session.id)).toBe(false);

    expect(account.calls).toHaveLength(callsBefore);
    await expect(account.activeSessions()).resolves.toEqual([]);
    expect(account.sessionHistory()).toEqual([
      { ...session, status: 'Terminated', endedAt: '2026-11-02T13:45:00.000Z' },
    ]);
  });

  it('terminates a session, recording the call, and succeeds for unknown ids as AWS does', async () => {
    const { account, clock } = newAccount();
    await grant(account, alice);
    await grant(account, dave, 'd1');
    const mine = await opened(account, alice);
    const theirs = await opened(account, dave);
    clock.set('2026-11-02T13:50:00Z');

    await account.terminateSession(mine.id);
    await account.terminateSession('alice-does-not-exist');

    await expect(account.activeSessions()).resolves.toEqual([theirs]);
    expect(account.sessionHistory()).toEqual([
      { ...mine, status: 'Terminated', endedAt: '2026-11-02T13:50:00.000Z' },
    ]);
    expect(account.calls.filter((c) => c.op === 'terminateSession').map((c) => c.args)).toEqual([
      [mine.id],
      ['alice-does-not-exist'],
    ]);
  });

  it('lets a session refuse termination, though TerminateSession reports success; exit still ends it', async () => {
    const { account } = newAccount();
    await grant(account, alice);
    const session = await opened(account, alice);
    account.refuseTermination(session.id);

    await expect(account.terminateSession(session.id)).resolves.toBeUndefined();
    await expect(account.terminateSession(session.id)).resolves.toBeUndefined();
    await expect(account.activeSessions()).resolves.toEqual([session]);

    expect(account.exitSession(session.id)).toBe(true);
    await expect(account.activeSessions()).resolves.toEqual([]);
  });

  it('hands out copies: changing a returned session changes nothing in the account', async () => {
    const { account } = newAccount();
    await grant(account, alice);
    const session = await opened(account, alice);

    session.status = 'Terminated';
    const [listed] = await account.activeSessions();
    if (listed) listed.target = 'elsewhere';

    await expect(account.activeSessions()).resolves.toEqual([{ ...session, status: 'Connected' }]);
  });

  it('lists ended sessions started at or after a time, like DescribeSessions History with InvokedAfter', async () => {
    const { account, clock } = newAccount();
    await grant(account, alice);
    const early = await opened(account, alice);
    clock.set('2026-11-02T13:40:00Z');
    const late = await opened(account, alice);
    // Still open: History holds ended sessions only.
    await opened(account, alice);
    account.exitSession(early.id);
    await account.terminateSession(late.id);

    const since = await account.sessionsSince('2026-11-02T13:40:00Z');

    expect(since.map((s) => s.id)).toEqual([late.id]);
    expect(since[0]?.endedAt).toBe('2026-11-02T13:40:00.000Z');
    expect((await account.sessionsSince('2026-11-02T13:00:00Z')).map((s) => s.id)).toEqual([
      early.id,
      late.id,
    ]);
  });
});

describe('access roles: boundary and trust, evaluated', () => {
  const person: Person = {
    user: 'U0ALICE',
    identity: { kind: 'iam-user', name: 'alice', path: '/' },
    attach: 'access-role',
  };
  const aliceRole: Principal = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' };
  /** A policy that would allow sessions on every node, whatever its tags: only the boundary can stop it. */
  const everyNode: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*' }],
  };

  function accountWith(opts: { boundary?: boolean }) {
    const clock = new ManualClock(new Date(IN_WINDOW));
    const boundary = renderBoundary({ partition: 'aws', accountId: ACCOUNT, region: REGION }, [
      { tags: { Fleet: 'prod-raspi' }, documents: ['shell'] },
    ]);
    if (!boundary.ok) throw new Error('boundary did not render');
    return new SimulatedAccount({
      accountId: ACCOUNT,
      region: REGION,
      nodes: [raspi, web],
      clock,
      people: [person],
      ...(opts.boundary && { boundary: boundary.value }),
    });
  }

  async function attachEveryNode(account: SimulatedAccount, principal: Principal): Promise<void> {
    const { arn } = await account.createPolicy({
      name: 'keyturn-x',
      path: '/keyturn/',
      description: '',
      document: everyNode,
      tags: {},
    });
    await account.attachPolicy(principal, arn);
  }

  it('caps an over-broad policy with the boundary: the target’s nodes only', async () => {
    const capped = accountWith({ boundary: true });
    await attachEveryNode(capped, aliceRole);
    await expect(capped.evaluate(aliceRole, raspi.id)).resolves.toBe('allowed');
    await expect(capped.evaluate(aliceRole, web.id)).resolves.toBe('denied');

    const uncapped = accountWith({ boundary: false });
    await attachEveryNode(uncapped, aliceRole);
    await expect(uncapped.evaluate(aliceRole, web.id)).resolves.toBe('allowed');
  });

  it('lets the access role act only under the session name its trust policy pins', async () => {
    const account = accountWith({ boundary: true });
    const otherName: Principal = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'mallory' };
    await attachEveryNode(account, aliceRole);
    await expect(account.evaluate(aliceRole, raspi.id)).resolves.toBe('allowed');
    await expect(account.evaluate(otherName, raspi.id)).resolves.toBe('denied');
  });
});
