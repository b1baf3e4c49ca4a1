import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  EntityAlreadyExistsException,
  type EvaluationResult,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListPolicyVersionsCommand,
  NoSuchEntityException,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createIamAccessControl } from '../../../src/adapters/aws/iam-access-control';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import type { Principal } from '../../../src/domain/principal';
import { AccessControlError } from '../../../src/ports/access-control';

const ACCOUNT = '123456789012';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-a1b2`;
const NODE_ARN = `arn:aws:ssm:ap-northeast-1:${ACCOUNT}:managed-instance/mi-0a1b2c3d4e5f60001`;
const alice: Principal = { kind: 'user', name: 'alice' };
const bob: Principal = { kind: 'role', name: 'oncall-bob' };

const document: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: `arn:aws:ssm:ap-northeast-1:${ACCOUNT}:managed-instance/*`,
      Condition: { StringEquals: { 'ssm:resourceTag/Fleet': 'prod-raspi' } },
    },
  ],
};

const meta = { $metadata: {} };

/** One line of a SimulatePrincipalPolicy answer for the node. */
function result(EvalDecision: EvaluationResult['EvalDecision']): EvaluationResult {
  return { EvalActionName: 'ssm:StartSession', EvalResourceName: NODE_ARN, EvalDecision };
}
const iam = mockClient(IAMClient);
const accessControl = createIamAccessControl(new IAMClient({ region: 'us-east-1' }), { accountId: ACCOUNT });

beforeEach(() => iam.reset());

/** The exact input of the nth call of a command, for toEqual: a stray or missing field fails. */
function inputOf<C extends Parameters<typeof iam.commandCalls>[0]>(command: C, n = 0) {
  const call = iam.commandCalls(command)[n];
  if (!call) throw new Error(`no call ${n} of ${command.name}`);
  return call.args[0].input;
}

describe('createPolicy', () => {
  const input = {
    name: 'keyturn-a1b2',
    path: '/keyturn/',
    description: 'Keyturn grant a1b2 for alice on prod-raspi',
    document,
    tags: { 'keyturn:grant': 'a1b2', 'keyturn:target': 'prod-raspi' },
  };

  it('sends the serialized document, path, name, description and tags as Key/Value pairs', async () => {
    iam.on(CreatePolicyCommand).resolves({ Policy: { Arn: POLICY_ARN } });

    await expect(accessControl.createPolicy(input)).resolves.toEqual({ arn: POLICY_ARN, created: true });

    expect(iam).toHaveReceivedCommandTimes(CreatePolicyCommand, 1);
    expect(inputOf(CreatePolicyCommand)).toEqual({
      PolicyName: 'keyturn-a1b2',
      Path: '/keyturn/',
      Description: 'Keyturn grant a1b2 for alice on prod-raspi',
      PolicyDocument: JSON.stringify(document),
      Tags: [
        { Key: 'keyturn:grant', Value: 'a1b2' },
        { Key: 'keyturn:target', Value: 'prod-raspi' },
      ],
    });
  });

  it('returns the derived ARN with created:false when the policy already exists (a retried apply)', async () => {
    iam.on(CreatePolicyCommand).rejects(
      new EntityAlreadyExistsException({
        message: 'A policy called keyturn-a1b2 already exists.',
        ...meta,
      }),
    );

    await expect(accessControl.createPolicy(input)).resolves.toEqual({ arn: POLICY_ARN, created: false });
  });

  it('throws LimitExceeded as an AccessControlError that keeps the SDK error as cause', async () => {
    const sdkError = new LimitExceededException({
      message: 'Cannot exceed quota for PolicySize: 6144',
      ...meta,
    });
    iam.on(CreatePolicyCommand).rejects(sdkError);

    const error = await accessControl.createPolicy(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({ code: 'LimitExceeded', cause: sdkError });
    expect((error as Error).message).toContain('CreatePolicy');
  });
});

describe('attachPolicy', () => {
  it('attaches to an IAM user with AttachUserPolicy', async () => {
    iam.on(AttachUserPolicyCommand).resolves({});

    await accessControl.attachPolicy(alice, POLICY_ARN);

    expect(inputOf(AttachUserPolicyCommand)).toEqual({ UserName: 'alice', PolicyArn: POLICY_ARN });
    expect(iam).not.toHaveReceivedCommand(AttachRolePolicyCommand);
  });

  it('attaches to an IAM role with AttachRolePolicy', async () => {
    iam.on(AttachRolePolicyCommand).resolves({});

    await accessControl.attachPolicy(bob, POLICY_ARN);

    expect(inputOf(AttachRolePolicyCommand)).toEqual({ RoleName: 'oncall-bob', PolicyArn: POLICY_ARN });
    expect(iam).not.toHaveReceivedCommand(AttachUserPolicyCommand);
  });

  it('throws NoSuchEntity when the policy or principal is missing (attach is not idempotent about that)', async () => {
    iam
      .on(AttachUserPolicyCommand)
      .rejects(new NoSuchEntityException({ message: 'The user alice cannot be found.', ...meta }));

    await expect(accessControl.attachPolicy(alice, POLICY_ARN)).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'NoSuchEntity',
    });
  });
});

describe('detachPolicy', () => {
  it('detaches from a user with DetachUserPolicy', async () => {
    iam.on(DetachUserPolicyCommand).resolves({});

    await expect(accessControl.detachPolicy(alice, POLICY_ARN)).resolves.toBe('detached');
    expect(inputOf(DetachUserPolicyCommand)).toEqual({ UserName: 'alice', PolicyArn: POLICY_ARN });
  });

  it('detaches from a role with DetachRolePolicy', async () => {
    iam.on(DetachRolePolicyCommand).resolves({});

    await expect(accessControl.detachPolicy(bob, POLICY_ARN)).resolves.toBe('detached');
    expect(inputOf(DetachRolePolicyCommand)).toEqual({ RoleName: 'oncall-bob', PolicyArn: POLICY_ARN });
  });

  it('answers already-gone on NoSuchEntity', async () => {
    iam
      .on(DetachRolePolicyCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy was not found.', ...meta }));

    await expect(accessControl.detachPolicy(bob, POLICY_ARN)).resolves.toBe('already-gone');
  });

  it("goes by the wire error's Code before its class name", async () => {
    const wire = Object.assign(
      new IAMServiceException({ name: 'IAMServiceException', $fault: 'client', ...meta }),
      {
        Code: 'NoSuchEntity',
      },
    );
    iam.on(DetachUserPolicyCommand).rejects(wire);

    await expect(accessControl.detachPolicy(alice, POLICY_ARN)).resolves.toBe('already-gone');
  });
});

describe('deletePolicy', () => {
  it('deletes every non-default version across pages, then the policy', async () => {
    iam
      .on(ListPolicyVersionsCommand, { PolicyArn: POLICY_ARN, Marker: undefined })
      .resolves({
        Versions: [
          { VersionId: 'v3', IsDefaultVersion: true },
          { VersionId: 'v2', IsDefaultVersion: false },
        ],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .on(ListPolicyVersionsCommand, { PolicyArn: POLICY_ARN, Marker: 'page-2' })
      .resolves({ Versions: [{ VersionId: 'v1', IsDefaultVersion: false }], IsTruncated: false });
    iam.on(DeletePolicyVersionCommand).resolves({});
    iam.on(DeletePolicyCommand).resolves({});

    await expect(accessControl.deletePolicy(POLICY_ARN)).resolves.toBe('deleted');

    expect(iam).toHaveReceivedCommandTimes(ListPolicyVersionsCommand, 2);
    expect(inputOf(ListPolicyVersionsCommand, 1)).toEqual({ PolicyArn: POLICY_ARN, Marker: 'page-2' });
    expect(iam.commandCalls(DeletePolicyVersionCommand).map((c) => c.args[0].input)).toEqual([
      { PolicyArn: POLICY_ARN, VersionId: 'v2' },
      { PolicyArn: POLICY_ARN, VersionId: 'v1' },
    ]);
    expect(inputOf(DeletePolicyCommand)).toEqual({ PolicyArn: POLICY_ARN });
    // DeletePolicy must come last: IAM refuses it while non-default versions remain.
    const order = iam.calls().map((c) => c.args[0].constructor.name);
    expect(order).toEqual([
      'ListPolicyVersionsCommand',
      'ListPolicyVersionsCommand',
      'DeletePolicyVersionCommand',
      'DeletePolicyVersionCommand',
      'DeletePolicyCommand',
    ]);
  });

  it('answers already-gone when the policy no longer exists', async () => {
    iam
      .on(ListPolicyVersionsCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy does not exist.', ...meta }));

    await expect(accessControl.deletePolicy(POLICY_ARN)).resolves.toBe('already-gone');
    expect(iam).not.toHaveReceivedCommand(DeletePolicyCommand);
  });

  it('answers already-gone when DeletePolicy itself finds nothing (a concurrent revoke)', async () => {
    iam.on(ListPolicyVersionsCommand).resolves({ Versions: [{ VersionId: 'v1', IsDefaultVersion: true }] });
    iam
      .on(DeletePolicyCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy does not exist.', ...meta }));

    await expect(accessControl.deletePolicy(POLICY_ARN)).resolves.toBe('already-gone');
    expect(iam).not.toHaveReceivedCommand(DeletePolicyVersionCommand);
  });

  it('throws DeleteConflict while the policy is still attached', async () => {
    iam.on(ListPolicyVersionsCommand).resolves({ Versions: [{ VersionId: 'v1', IsDefaultVersion: true }] });
    iam
      .on(DeletePolicyCommand)
      .rejects(
        new DeleteConflictException({ message: 'Cannot delete a policy attached to entities.', ...meta }),
      );

    await expect(accessControl.deletePolicy(POLICY_ARN)).rejects.toMatchObject({
      code: 'DeleteConflict',
      message: expect.stringContaining('DeletePolicy'),
    });
  });
});

describe('canStartSession', () => {
  const check = {
    nodeArn: NODE_ARN,
    tags: { Fleet: 'prod-raspi', Site: 'osaka' },
    at: '2026-11-02T13:30:00.000Z',
  };

  it('simulates ssm:StartSession for a user with every tag and the time as context', async () => {
    iam
      .on(SimulatePrincipalPolicyCommand)
      .resolves({ EvaluationResults: [result('allowed')], IsTruncated: false });

    await expect(accessControl.canStartSession(alice, check)).resolves.toBe(true);

    expect(inputOf(SimulatePrincipalPolicyCommand)).toEqual({
      PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      ActionNames: ['ssm:StartSession'],
      ResourceArns: [NODE_ARN],
      ContextEntries: [
        {
          ContextKeyName: 'ssm:resourceTag/Fleet',
          ContextKeyType: 'string',
          ContextKeyValues: ['prod-raspi'],
        },
        { ContextKeyName: 'ssm:resourceTag/Site', ContextKeyType: 'string', ContextKeyValues: ['osaka'] },
        {
          ContextKeyName: 'aws:CurrentTime',
          ContextKeyType: 'date',
          ContextKeyValues: ['2026-11-02T13:30:00.000Z'],
        },
      ],
      Marker: undefined,
    });
  });

  it('simulates against the role ARN for a role', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [result('allowed')] });

    await expect(accessControl.canStartSession(bob, check)).resolves.toBe(true);
    expect(inputOf(SimulatePrincipalPolicyCommand).PolicySourceArn).toBe(
      `arn:aws:iam::${ACCOUNT}:role/oncall-bob`,
    );
  });

  it.each([
    ['implicitDeny', [result('implicitDeny')]],
    ['explicitDeny', [result('explicitDeny')]],
    ['partially denied', [result('allowed'), result('implicitDeny')]],
    ['no results at all', []],
  ])('is false when the answer is %s', async (_label, EvaluationResults) => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults });

    await expect(accessControl.canStartSession(alice, check)).resolves.toBe(false);
  });

  it('reads every page of a truncated answer before deciding', async () => {
    iam
      .on(SimulatePrincipalPolicyCommand, { Marker: undefined })
      .resolves({ EvaluationResults: [result('allowed')], IsTruncated: true, Marker: 'm2' })
      .on(SimulatePrincipalPolicyCommand, { Marker: 'm2' })
      .resolves({ EvaluationResults: [result('implicitDeny')], IsTruncated: false });

    await expect(accessControl.canStartSession(alice, check)).resolves.toBe(false);
    expect(iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 2);
  });

  it('throws an unexpected error as AccessControlError with the IAM code', async () => {
    const sdkError = new IAMServiceException({
      name: 'Throttling',
      $fault: 'client',
      message: 'Rate exceeded',
      ...meta,
    });
    iam.on(SimulatePrincipalPolicyCommand).rejects(sdkError);

    const error = await accessControl.canStartSession(alice, check).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({ code: 'Throttling', cause: sdkError });
    expect((error as Error).message).toBe(
      'IAM SimulatePrincipalPolicy failed with Throttling: Rate exceeded',
    );
  });

  it('gives a socket failure its Node error code', async () => {
    iam
      .on(SimulatePrincipalPolicyCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));

    await expect(accessControl.canStartSession(alice, check)).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'ECONNREFUSED',
    });
  });

  it('falls back to code Unknown for an error with nothing to go on', async () => {
    iam.on(SimulatePrincipalPolicyCommand).rejects(new Error('something odd'));

    await expect(accessControl.canStartSession(alice, check)).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'Unknown',
    });
  });
});
