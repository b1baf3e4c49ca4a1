import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DetachRolePolicyCommand,
  GetAccountSummaryCommand,
  IAMClient,
  IAMServiceException,
  InvalidInputException,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  NoSuchEntityException,
  ServiceFailureException,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createIamAccessControl } from '../../../src/adapters/aws/iam-access-control';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { applyGrant } from '../../../src/app/apply-grant';
import { decideOnGrant } from '../../../src/app/decide';
import { requestAccess } from '../../../src/app/request-access';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  RecordingChat,
  RecordingQueue,
  silentLogger,
  testConfig,
} from '../../support/fakes';

const ARN = 'arn:aws:iam::123456789012:policy/keyturn/keyturn-g1';
const meta = { $metadata: {} };

/** The worker driving the real IAM adapter, with the SDK answering from aws-sdk-client-mock. */
async function approvedGrantOverIam(opts: { readQuotasAtStart?: boolean } = {}) {
  const iam = mockClient(IAMClient);
  // Answered from the start: a container may read the account's quotas as soon as it builds the adapter.
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AttachedPoliciesPerUserQuota: 10 } });
  const config = testConfig();
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const grants = new MemoryGrantStore();
  const deps = {
    config,
    grants,
    queue: new RecordingQueue(),
    chat: new RecordingChat(),
    aws: onePlace({
      access: createIamAccessControl(new IAMClient({ region: 'ap-northeast-1' }), {
        accountId: config.aws.accountId,
        ...(opts.readQuotasAtStart ? { readQuotasAtStart: true } : {}),
      }),
      fleet: new SimulatedAccount({ ...config.aws, nodes: config.sandbox.fleet, clock }),
    }),
    clock,
    logger: silentLogger,
    newId: () => 'g1',
    readiness: { maxWaitMs: 4_000, firstDelayMs: 1_000 },
  };
  await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h fix it' });
  await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
  iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AttachedPoliciesPerRoleQuota: 10 } });
  iam.on(CreatePolicyCommand).resolves({ Policy: { Arn: ARN, PolicyName: 'keyturn-g1' } });
  iam.on(ListPolicyVersionsCommand).resolves({ Versions: [{ VersionId: 'v1', IsDefaultVersion: true }] });
  iam.on(DeletePolicyCommand).resolves({});
  return { iam, deps, grants };
}

describe('applyGrant over the IAM adapter (SDK mocked)', () => {
  it('compensates an attach failure: detaches and deletes the policy it created, and fails the grant', async () => {
    const { iam, deps, grants } = await approvedGrantOverIam();
    iam
      .on(AttachRolePolicyCommand)
      .rejects(
        new LimitExceededException({ message: 'Cannot exceed quota for PoliciesPerRole: 10', ...meta }),
      );
    iam.on(DetachRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'not attached', ...meta }));

    expect(await applyGrant(deps, 'g1')).toBe('failed');

    expect(iam).toHaveReceivedCommandWith(CreatePolicyCommand, {
      PolicyName: 'keyturn-g1',
      Path: '/keyturn/',
    });
    expect(iam).toHaveReceivedCommandWith(DetachRolePolicyCommand, {
      RoleName: 'keyturn-u0alice',
      PolicyArn: ARN,
    });
    expect(iam).toHaveReceivedCommandWith(DeletePolicyCommand, { PolicyArn: ARN });
    expect(iam).not.toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
    expect(await grants.get('g1')).toMatchObject({
      status: 'failed',
      failureReason: expect.stringContaining('LimitExceeded'),
    });
    iam.restore();
  });

  it('activates after SimulatePrincipalPolicy on the access role answers allowed, with the exact requests', async () => {
    const { iam, deps, grants } = await approvedGrantOverIam();
    iam.on(AttachRolePolicyCommand).resolves({});
    iam
      .on(SimulatePrincipalPolicyCommand)
      .resolvesOnce({
        EvaluationResults: [{ EvalActionName: 'ssm:StartSession', EvalDecision: 'implicitDeny' }],
      })
      .resolves({ EvaluationResults: [{ EvalActionName: 'ssm:StartSession', EvalDecision: 'allowed' }] });

    expect(await applyGrant(deps, 'g1')).toBe('activated');

    expect(iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, {
      RoleName: 'keyturn-u0alice',
      PolicyArn: ARN,
    });
    expect(iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 2);
    expect(iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, {
      // The access role, path included: IAM simulates its policies within its permissions boundary.
      PolicySourceArn: 'arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice',
      ActionNames: ['ssm:StartSession'],
    });
    expect(iam).not.toHaveReceivedCommand(DeletePolicyCommand);
    expect((await grants.get('g1'))?.status).toBe('active');
    iam.restore();
  });

  it("makes at most 3 IAM calls before the first readiness check on a container's first approval (issue 13)", async () => {
    // As the worker builds it: the account's quotas are read when the container starts, not on the approval.
    const { iam, deps } = await approvedGrantOverIam({ readQuotasAtStart: true });
    iam.on(AttachRolePolicyCommand).resolves({});
    iam
      .on(SimulatePrincipalPolicyCommand)
      .resolves({ EvaluationResults: [{ EvalActionName: 'ssm:StartSession', EvalDecision: 'allowed' }] });
    const atStart = iam.calls().length;

    expect(await applyGrant(deps, 'g1')).toBe('activated');

    const names = iam
      .calls()
      .slice(atStart)
      .map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    const beforeReadiness = names.slice(0, names.indexOf('SimulatePrincipalPolicyCommand'));
    expect(beforeReadiness).toEqual([
      'ListAttachedRolePoliciesCommand',
      'CreatePolicyCommand',
      'AttachRolePolicyCommand',
    ]);
    iam.restore();
  });
});

// Issue 11 point 14: a failing SimulatePrincipalPolicy failed the grant at once, with IAM's raw message.
describe('applyGrant: when SimulatePrincipalPolicy itself fails (SDK mocked)', () => {
  const allowed = {
    EvaluationResults: [{ EvalActionName: 'ssm:StartSession', EvalDecision: 'allowed' as const }],
  };
  const throttled = () =>
    new IAMServiceException({
      name: 'Throttling',
      $fault: 'client',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
  /** What IAM says through an SCP: the raw text, which must reach neither the requester nor the audit channel. */
  const RAW_DENY =
    'User: arn:aws:sts::123456789012:assumed-role/keyturn-prod/worker is not authorized to perform: iam:SimulatePrincipalPolicy on resource: user alice with an explicit deny in a service control policy';

  it('keeps polling through throttling and a 5xx within the readiness window, then activates', async () => {
    const { iam, deps, grants } = await approvedGrantOverIam();
    iam.on(AttachRolePolicyCommand).resolves({});
    iam
      .on(SimulatePrincipalPolicyCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(new ServiceFailureException({ message: 'internal', $metadata: { httpStatusCode: 500 } }))
      .resolves(allowed);

    expect(await applyGrant(deps, 'g1')).toBe('activated');

    expect(iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 3);
    expect(iam).not.toHaveReceivedCommand(DeletePolicyCommand);
    expect((await grants.get('g1'))?.status).toBe('active');
    iam.restore();
  });

  it('gives up when the window ends still throttled, naming the last error code and nothing else from IAM', async () => {
    const { iam, deps, grants } = await approvedGrantOverIam();
    iam.on(AttachRolePolicyCommand).resolves({});
    iam.on(DetachRolePolicyCommand).resolves({});
    iam.on(SimulatePrincipalPolicyCommand).rejects(throttled());

    expect(await applyGrant(deps, 'g1')).toBe('failed');

    // readiness 4 s from 1 s, doubling: checks at 0, 1, 3 and 4 s.
    expect(iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 4);
    const reason = (await grants.get('g1'))?.failureReason;
    expect(reason).toBe(
      'IAM did not report the access as in effect within the time allowed (the last check failed with Throttling)',
    );
    expect(iam).toHaveReceivedCommandWith(DeletePolicyCommand, { PolicyArn: ARN });
    iam.restore();
  });

  it.each([
    [
      'AccessDenied from an SCP',
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: RAW_DENY,
        $metadata: { httpStatusCode: 403 },
      }),
      "Keyturn's role may not call iam:SimulatePrincipalPolicy on access role keyturn-u0alice (AccessDenied: an SCP, a permissions boundary or the role's own policy denies it), so it cannot check that the access is in effect; allow iam:SimulatePrincipalPolicy on arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice for Keyturn's role",
    ],
    [
      'InvalidInput',
      new InvalidInputException({ message: 'Invalid ARN: raw IAM text', $metadata: { httpStatusCode: 400 } }),
      'IAM could not evaluate the policies of access role keyturn-u0alice (InvalidInput) as arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice; check that this ARN names it (partition, account, path) under people and aws in keyturn.yml',
    ],
    [
      'NoSuchEntity',
      new NoSuchEntityException({
        message: 'The user with name alice cannot be found: raw IAM text',
        $metadata: { httpStatusCode: 404 },
      }),
      'IAM has no access role arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice (NoSuchEntity): access roles are created when Keyturn is deployed, so deploy again after adding a person under people',
    ],
  ])(
    'fails at once on %s, with a sentence saying what the operator must fix',
    async (_what, sdkError, sentence) => {
      const { iam, deps, grants } = await approvedGrantOverIam();
      iam.on(AttachRolePolicyCommand).resolves({});
      iam.on(DetachRolePolicyCommand).resolves({});
      iam.on(SimulatePrincipalPolicyCommand).rejects(sdkError);

      expect(await applyGrant(deps, 'g1')).toBe('failed');

      expect(iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 1);
      const grant = await grants.get('g1');
      expect(grant?.failureReason).toBe(sentence);
      expect(JSON.stringify(grant)).not.toContain('raw IAM text');
      expect(JSON.stringify(grant)).not.toContain('is not authorized to perform');
      expect(iam).toHaveReceivedCommandWith(DeletePolicyCommand, { PolicyArn: ARN });
      iam.restore();
    },
  );
});
