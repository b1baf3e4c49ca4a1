import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DetachRolePolicyCommand,
  GetAccountSummaryCommand,
  IAMClient,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  NoSuchEntityException,
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
async function approvedGrantOverIam() {
  const iam = mockClient(IAMClient);
  const config = testConfig();
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const grants = new MemoryGrantStore();
  const deps = {
    config,
    grants,
    queue: new RecordingQueue(),
    chat: new RecordingChat(),
    access: createIamAccessControl(new IAMClient({ region: 'ap-northeast-1' }), {
      accountId: config.aws.accountId,
    }),
    fleet: new SimulatedAccount({ ...config.aws, nodes: config.sandbox.fleet, clock }),
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
});
