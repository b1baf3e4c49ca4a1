import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import type { SandboxNode } from '../../../src/config/types';
import { nodeArn } from '../../../src/domain/node';
import { POLICY_PATH, policyName, renderGrantPolicy } from '../../../src/domain/policy';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import type { Principal } from '../../../src/domain/principal';
import { AccessControlError } from '../../../src/ports/access-control';
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
  principal: Principal,
  tags: Record<string, string> = { Fleet: 'prod-raspi' },
): PolicyDocument {
  const rendered = renderGrantPolicy({
    accountId: ACCOUNT,
    region: REGION,
    principal,
    target: { tags, documents: ['shell', 'ssh'] },
    startsAt: STARTS,
    expiresAt: EXPIRES,
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
    document: grantPolicy(principal),
    tags: { 'keyturn:grant': id },
  });
  await account.attachPolicy(principal, arn);
  return arn;
}

const raspiCheck = (at: string) => ({ nodeArn: nodeArn(REGION, ACCOUNT, raspi.id), tags: raspi.tags, at });

describe('policies and attachments, as IAM keeps them', () => {
  it('creates a policy under its path and answers created:false for the same name again', async () => {
    const { account } = newAccount();
    const input = {
      name: 'keyturn-a1b2',
      path: '/keyturn/',
      description: 'd',
      document: grantPolicy(alice),
      tags: {},
    };

    const first = await account.createPolicy(input);
    const again = await account.createPolicy({ ...input, description: 'retried' });

    expect(first).toEqual({ arn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-a1b2`, created: true });
    expect(again).toEqual({ arn: first.arn, created: false });
    expect(account.policy(first.arn)?.description).toBe('d');
    expect(account.policyDocument(first.arn)).toEqual(grantPolicy(alice));
  });

  it('stores a copy: changing the document passed in changes nothing in the account', async () => {
    const { account } = newAccount();
    const document = grantPolicy(alice);
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
      document: grantPolicy(alice),
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
    const input = { name: 'p', path: '/', description: '', document: grantPolicy(alice), tags: {} };

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

    const check = { nodeArn: nodeArn(REGION, ACCOUNT, web.id), tags: web.tags, at: IN_WINDOW };
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

  it('lets a user terminate only their own sessions (aws:username)', async () => {
    const { account } = newAccount();
    await grant(account, alice);
    const session = (owner: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${owner}-0a1b2c3d4e5f`;

    await expect(
      account.decide(alice, { action: 'ssm:TerminateSession', resource: session('alice') }),
    ).resolves.toBe('allowed');
    await expect(
      account.decide(alice, { action: 'ssm:TerminateSession', resource: session('bob') }),
    ).resolves.toBe('denied');
  });

  it('lets a role terminate only its own sessions (aws:userid)', async () => {
    const { account } = newAccount();
    await grant(account, dave);
    const own = `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${account.userId(dave)}-0a1b2c3d4e5f`;
    const other = `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${account.userId(alice)}-0a1b2c3d4e5f`;

    await expect(account.decide(dave, { action: 'ssm:TerminateSession', resource: own })).resolves.toBe(
      'allowed',
    );
    await expect(account.decide(dave, { action: 'ssm:TerminateSession', resource: other })).resolves.toBe(
      'denied',
    );
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
