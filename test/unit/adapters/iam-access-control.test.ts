import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  EntityAlreadyExistsException,
  type EvaluationResult,
  GetAccountSummaryCommand,
  IAMClient,
  IAMServiceException,
  InvalidInputException,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  NoSuchEntityException,
  type PolicyVersion,
  ServiceFailureException,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagRoleCommand,
  UntagUserCommand,
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
const aliceAccess: Principal = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' };

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

describe('an access role is an IAM role to attach, tag and count', () => {
  it('attaches and detaches with the role calls, by role name', async () => {
    iam.on(AttachRolePolicyCommand).resolves({});
    iam.on(DetachRolePolicyCommand).resolves({});
    await accessControl.attachPolicy(aliceAccess, POLICY_ARN);
    await expect(accessControl.detachPolicy(aliceAccess, POLICY_ARN)).resolves.toBe('detached');
    expect(inputOf(AttachRolePolicyCommand)).toEqual({ RoleName: 'keyturn-u0alice', PolicyArn: POLICY_ARN });
    expect(inputOf(DetachRolePolicyCommand)).toEqual({ RoleName: 'keyturn-u0alice', PolicyArn: POLICY_ARN });
    expect(iam).not.toHaveReceivedCommand(AttachUserPolicyCommand);
  });

  it('puts the Run As tag on the access role (Keyturn owns it, so tagging always works)', async () => {
    iam.on(TagRoleCommand).resolves({});
    await accessControl.setRunAs(aliceAccess, 'pi-ops');
    expect(inputOf(TagRoleCommand)).toEqual({
      RoleName: 'keyturn-u0alice',
      Tags: [{ Key: 'SSMSessionRunAs', Value: 'pi-ops' }],
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

  it('simulates an access role by its ARN, path included, so IAM applies its permissions boundary', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [result('allowed')] });

    await expect(accessControl.canStartSession(aliceAccess, check)).resolves.toBe(true);
    expect(inputOf(SimulatePrincipalPolicyCommand).PolicySourceArn).toBe(
      `arn:aws:iam::${ACCOUNT}:role/keyturn/people/keyturn-u0alice`,
    );
    // No PermissionsBoundaryPolicyInputList: it would replace the boundary the role really carries.
    expect(inputOf(SimulatePrincipalPolicyCommand).PermissionsBoundaryPolicyInputList).toBeUndefined();
  });

  it('simulates a directly attached IAM user with a path, in the aws-us-gov partition', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [result('allowed')] });
    const gov = createIamAccessControl(new IAMClient({ region: 'us-gov-west-1' }), {
      accountId: ACCOUNT,
      partition: 'aws-us-gov',
    });

    await gov.canStartSession({ kind: 'user', name: 'erin', path: '/engineering/' }, check);
    expect(inputOf(SimulatePrincipalPolicyCommand).PolicySourceArn).toBe(
      `arn:aws-us-gov:iam::${ACCOUNT}:user/engineering/erin`,
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

  // Issue 11 point 14: readiness keeps polling through a transient failure and stops on a persistent one.
  it.each([
    [
      'IAM throttling',
      true,
      new IAMServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    [
      'an IAM 5xx',
      true,
      new ServiceFailureException({ message: 'internal', $metadata: { httpStatusCode: 500 } }),
    ],
    [
      'a 503 without a modelled error',
      true,
      new IAMServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        message: '',
        $metadata: { httpStatusCode: 503 },
      }),
    ],
    ['a reset socket', true, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    [
      'a DNS failure',
      true,
      Object.assign(new Error('getaddrinfo EAI_AGAIN iam.amazonaws.com'), { code: 'EAI_AGAIN' }),
    ],
    [
      'AccessDenied (an SCP)',
      false,
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: 'with an explicit deny in a service control policy',
        $metadata: { httpStatusCode: 403 },
      }),
    ],
    [
      'InvalidInput',
      false,
      new InvalidInputException({ message: 'Invalid ARN', $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'NoSuchEntity',
      false,
      new NoSuchEntityException({ message: 'no such user', $metadata: { httpStatusCode: 404 } }),
    ],
  ])('says whether trying again may help: %s → transient %s', async (_what, transient, sdkError) => {
    iam.on(SimulatePrincipalPolicyCommand).rejects(sdkError);

    const error = await accessControl.canStartSession(alice, check).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({ transient });
  });

  it('falls back to code Unknown for an error with nothing to go on', async () => {
    iam.on(SimulatePrincipalPolicyCommand).rejects(new Error('something odd'));

    await expect(accessControl.canStartSession(alice, check)).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'Unknown',
    });
  });
});

describe('createPolicyVersion', () => {
  const version = (VersionId: string, created: string, IsDefaultVersion = false): PolicyVersion => ({
    VersionId,
    IsDefaultVersion,
    CreateDate: new Date(created),
  });
  const createInput = { PolicyArn: POLICY_ARN, PolicyDocument: JSON.stringify(document), SetAsDefault: true };

  it('creates the new default version straight away while fewer than 5 exist', async () => {
    iam.on(ListPolicyVersionsCommand).resolves({
      Versions: [version('v2', '2026-11-02T13:10:00Z', true), version('v1', '2026-11-02T13:00:00Z')],
    });
    iam.on(CreatePolicyVersionCommand).resolves({});

    await expect(accessControl.createPolicyVersion(POLICY_ARN, document)).resolves.toBeUndefined();

    expect(inputOf(ListPolicyVersionsCommand)).toEqual({ PolicyArn: POLICY_ARN, Marker: undefined });
    expect(iam).not.toHaveReceivedCommand(DeletePolicyVersionCommand);
    expect(iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 1);
    expect(inputOf(CreatePolicyVersionCommand)).toEqual(createInput);
  });

  it('with 5 versions across pages, deletes the oldest non-default one by CreateDate, then creates', async () => {
    iam
      .on(ListPolicyVersionsCommand, { Marker: undefined })
      .resolves({
        // The default is the oldest here: it must survive, and v3 is the oldest of the rest.
        Versions: [
          version('v1', '2026-11-02T12:00:00Z', true),
          version('v5', '2026-11-02T13:40:00Z'),
          version('v4', '2026-11-02T13:30:00Z'),
        ],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .on(ListPolicyVersionsCommand, { Marker: 'page-2' })
      .resolves({
        Versions: [version('v2', '2026-11-02T13:20:00Z'), version('v3', '2026-11-02T13:10:00Z')],
        IsTruncated: false,
      });
    iam.on(DeletePolicyVersionCommand).resolves({});
    iam.on(CreatePolicyVersionCommand).resolves({});

    await accessControl.createPolicyVersion(POLICY_ARN, document);

    expect(inputOf(ListPolicyVersionsCommand, 1)).toEqual({ PolicyArn: POLICY_ARN, Marker: 'page-2' });
    expect(iam.commandCalls(DeletePolicyVersionCommand).map((c) => c.args[0].input)).toEqual([
      { PolicyArn: POLICY_ARN, VersionId: 'v3' },
    ]);
    expect(inputOf(CreatePolicyVersionCommand)).toEqual(createInput);
    // The slot must be free before IAM is asked for a sixth version.
    expect(iam.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'ListPolicyVersionsCommand',
      'ListPolicyVersionsCommand',
      'DeletePolicyVersionCommand',
      'CreatePolicyVersionCommand',
    ]);
  });

  it('orders versions created in the same second by number, v2 before v10', async () => {
    const same = '2026-11-02T13:00:00Z';
    iam.on(ListPolicyVersionsCommand).resolves({
      Versions: [
        version('v12', same, true),
        version('v10', same),
        version('v11', same),
        version('v9', same),
        version('v8', same),
      ],
    });
    iam.on(DeletePolicyVersionCommand).resolves({});
    iam.on(CreatePolicyVersionCommand).resolves({});

    await accessControl.createPolicyVersion(POLICY_ARN, document);

    expect(inputOf(DeletePolicyVersionCommand)).toEqual({ PolicyArn: POLICY_ARN, VersionId: 'v8' });
  });

  it('tolerates the oldest version being deleted concurrently', async () => {
    iam.on(ListPolicyVersionsCommand).resolves({
      Versions: ['v1', 'v2', 'v3', 'v4']
        .map((id, i) => version(id, `2026-11-02T13:0${i}:00Z`))
        .concat([version('v5', '2026-11-02T13:05:00Z', true)]),
    });
    iam
      .on(DeletePolicyVersionCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy version v1 does not exist.', ...meta }));
    iam.on(CreatePolicyVersionCommand).resolves({});

    await expect(accessControl.createPolicyVersion(POLICY_ARN, document)).resolves.toBeUndefined();
    expect(iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 1);
  });

  it('makes room again once when a concurrent writer took the freed slot', async () => {
    const five = ['v1', 'v2', 'v3', 'v4'].map((id, i) => version(id, `2026-11-02T13:0${i}:00Z`));
    iam
      .on(ListPolicyVersionsCommand)
      .resolvesOnce({ Versions: [...five, version('v5', '2026-11-02T13:05:00Z', true)] })
      .resolvesOnce({
        Versions: [
          ...five.slice(1),
          version('v5', '2026-11-02T13:05:00Z'),
          version('v6', '2026-11-02T13:06:00Z', true),
        ],
      });
    iam.on(DeletePolicyVersionCommand).resolves({});
    iam
      .on(CreatePolicyVersionCommand)
      .rejectsOnce(
        new LimitExceededException({ message: 'A managed policy can have up to 5 versions.', ...meta }),
      )
      .resolves({});

    await accessControl.createPolicyVersion(POLICY_ARN, document);

    expect(iam.commandCalls(DeletePolicyVersionCommand).map((c) => c.args[0].input.VersionId)).toEqual([
      'v1',
      'v2',
    ]);
    expect(iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 2);
  });

  it('gives up with LimitExceeded when the slot is lost twice', async () => {
    iam.on(ListPolicyVersionsCommand).resolves({ Versions: [version('v1', '2026-11-02T13:00:00Z', true)] });
    iam
      .on(CreatePolicyVersionCommand)
      .rejects(new LimitExceededException({ message: 'Cannot exceed quota for PolicySize: 6144', ...meta }));

    await expect(accessControl.createPolicyVersion(POLICY_ARN, document)).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'LimitExceeded',
      message: expect.stringContaining('CreatePolicyVersion'),
    });
    expect(iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 2);
  });

  it('throws NoSuchEntity when the policy is gone, without trying to create a version', async () => {
    iam
      .on(ListPolicyVersionsCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy does not exist.', ...meta }));

    const error = await accessControl.createPolicyVersion(POLICY_ARN, document).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({ code: 'NoSuchEntity' });
    expect(iam).not.toHaveReceivedCommand(CreatePolicyVersionCommand);
  });

  it('throws NoSuchEntity when the policy vanishes between listing and creating', async () => {
    iam.on(ListPolicyVersionsCommand).resolves({ Versions: [version('v1', '2026-11-02T13:00:00Z', true)] });
    iam
      .on(CreatePolicyVersionCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy does not exist.', ...meta }));

    await expect(accessControl.createPolicyVersion(POLICY_ARN, document)).rejects.toMatchObject({
      code: 'NoSuchEntity',
      message: expect.stringContaining('CreatePolicyVersion'),
    });
  });
});

describe('listPolicies', () => {
  it('lists local policies under the path, attached or not, across pages', async () => {
    iam
      .on(ListPoliciesCommand, { Marker: undefined })
      .resolves({
        Policies: [{ PolicyName: 'keyturn-a1', Arn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-a1` }],
        IsTruncated: true,
        Marker: 'm2',
      })
      .on(ListPoliciesCommand, { Marker: 'm2' })
      .resolves({
        Policies: [{ PolicyName: 'keyturn-b2', Arn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-b2` }],
        IsTruncated: false,
      });

    await expect(accessControl.listPolicies('/keyturn/')).resolves.toEqual([
      { arn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-a1`, name: 'keyturn-a1' },
      { arn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-b2`, name: 'keyturn-b2' },
    ]);
    expect(iam.commandCalls(ListPoliciesCommand).map((c) => c.args[0].input)).toEqual([
      { Scope: 'Local', PathPrefix: '/keyturn/', OnlyAttached: false, Marker: undefined },
      { Scope: 'Local', PathPrefix: '/keyturn/', OnlyAttached: false, Marker: 'm2' },
    ]);
  });

  it('throws a failure as AccessControlError naming ListPolicies', async () => {
    iam.on(ListPoliciesCommand).rejects(new ServiceFailureException({ message: 'oops', ...meta }));

    await expect(accessControl.listPolicies('/keyturn/')).rejects.toMatchObject({
      code: 'ServiceFailure',
      message: expect.stringContaining('ListPolicies'),
    });
  });
});

describe('detachFromAll', () => {
  it('detaches from every user, role and group on every page and says who it was on', async () => {
    iam
      .on(ListEntitiesForPolicyCommand, { PolicyArn: POLICY_ARN, Marker: undefined })
      .resolves({
        PolicyUsers: [{ UserName: 'alice' }],
        PolicyRoles: [{ RoleName: 'oncall-bob' }],
        IsTruncated: true,
        Marker: 'm2',
      })
      .on(ListEntitiesForPolicyCommand, { PolicyArn: POLICY_ARN, Marker: 'm2' })
      .resolves({ PolicyGroups: [{ GroupName: 'sre' }], PolicyUsers: [{ UserName: 'carol' }] });
    iam.on(DetachUserPolicyCommand).resolves({});
    iam.on(DetachRolePolicyCommand).resolves({});
    iam.on(DetachGroupPolicyCommand).resolves({});

    await expect(accessControl.detachFromAll(POLICY_ARN)).resolves.toEqual([
      { kind: 'user', name: 'alice' },
      { kind: 'role', name: 'oncall-bob' },
      { kind: 'user', name: 'carol' },
      { kind: 'group', name: 'sre' },
    ]);
    expect(inputOf(ListEntitiesForPolicyCommand, 1)).toEqual({ PolicyArn: POLICY_ARN, Marker: 'm2' });
    expect(iam.commandCalls(DetachUserPolicyCommand).map((c) => c.args[0].input)).toEqual([
      { UserName: 'alice', PolicyArn: POLICY_ARN },
      { UserName: 'carol', PolicyArn: POLICY_ARN },
    ]);
    expect(inputOf(DetachRolePolicyCommand)).toEqual({ RoleName: 'oncall-bob', PolicyArn: POLICY_ARN });
    expect(inputOf(DetachGroupPolicyCommand)).toEqual({ GroupName: 'sre', PolicyArn: POLICY_ARN });
  });

  it('tolerates an entity detached meanwhile and carries on with the rest', async () => {
    iam.on(ListEntitiesForPolicyCommand).resolves({ PolicyRoles: [{ RoleName: 'r1' }, { RoleName: 'r2' }] });
    iam
      .on(DetachRolePolicyCommand, { RoleName: 'r1' })
      .rejects(new NoSuchEntityException({ message: 'Policy is not attached.', ...meta }))
      .on(DetachRolePolicyCommand, { RoleName: 'r2' })
      .resolves({});

    await expect(accessControl.detachFromAll(POLICY_ARN)).resolves.toEqual([
      { kind: 'role', name: 'r1' },
      { kind: 'role', name: 'r2' },
    ]);
    expect(iam).toHaveReceivedCommandTimes(DetachRolePolicyCommand, 2);
  });

  it('answers an empty list for a policy that no longer exists', async () => {
    iam
      .on(ListEntitiesForPolicyCommand)
      .rejects(new NoSuchEntityException({ message: 'Policy does not exist.', ...meta }));

    await expect(accessControl.detachFromAll(POLICY_ARN)).resolves.toEqual([]);
  });

  it('throws any other detach failure naming the operation', async () => {
    iam.on(ListEntitiesForPolicyCommand).resolves({ PolicyGroups: [{ GroupName: 'sre' }] });
    iam.on(DetachGroupPolicyCommand).rejects(new ServiceFailureException({ message: 'oops', ...meta }));

    await expect(accessControl.detachFromAll(POLICY_ARN)).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'ServiceFailure',
      message: expect.stringContaining('DetachGroupPolicy'),
    });
  });
});

describe('attachedPolicyQuota', () => {
  const summary = { SummaryMap: { AttachedPoliciesPerUserQuota: 10, AttachedPoliciesPerRoleQuota: 20 } };
  // The adapter caches the quota: each test gets its own, so none sees another's summary.
  const fresh = () => createIamAccessControl(new IAMClient({ region: 'us-east-1' }), { accountId: ACCOUNT });

  it("counts a user's attached policies across pages and reads the user quota", async () => {
    iam
      .on(ListAttachedUserPoliciesCommand, { UserName: 'alice', Marker: undefined })
      .resolves({
        AttachedPolicies: [
          { PolicyName: 'a', PolicyArn: 'arn:aws:iam::aws:policy/a' },
          { PolicyName: 'b', PolicyArn: 'arn:aws:iam::aws:policy/b' },
        ],
        IsTruncated: true,
        Marker: 'm2',
      })
      .on(ListAttachedUserPoliciesCommand, { UserName: 'alice', Marker: 'm2' })
      .resolves({
        AttachedPolicies: [{ PolicyName: 'c', PolicyArn: 'arn:aws:iam::aws:policy/c' }],
        IsTruncated: false,
      });
    iam.on(GetAccountSummaryCommand).resolves(summary);

    await expect(fresh().attachedPolicyQuota(alice)).resolves.toEqual({
      attached: ['arn:aws:iam::aws:policy/a', 'arn:aws:iam::aws:policy/b', 'arn:aws:iam::aws:policy/c'],
      quota: 10,
    });
    expect(inputOf(ListAttachedUserPoliciesCommand, 1)).toEqual({ UserName: 'alice', Marker: 'm2' });
    expect(inputOf(GetAccountSummaryCommand)).toEqual({});
    expect(iam).not.toHaveReceivedCommand(ListAttachedRolePoliciesCommand);
  });

  it("counts a role's attached policies and reads the role quota", async () => {
    iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyName: 'a', PolicyArn: 'arn:aws:iam::aws:policy/a' }] });
    iam.on(GetAccountSummaryCommand).resolves(summary);

    await expect(fresh().attachedPolicyQuota(bob)).resolves.toEqual({
      attached: ['arn:aws:iam::aws:policy/a'],
      quota: 20,
    });
    expect(inputOf(ListAttachedRolePoliciesCommand)).toEqual({ RoleName: 'oncall-bob', Marker: undefined });
  });

  it('reads the account summary once, and again only before refusing at the limit', async () => {
    const cached = fresh();
    iam.on(ListAttachedUserPoliciesCommand).resolves({ AttachedPolicies: [] });
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    iam
      .on(GetAccountSummaryCommand)
      .resolvesOnce({ SummaryMap: { AttachedPoliciesPerUserQuota: 1, AttachedPoliciesPerRoleQuota: 20 } })
      .resolves({ SummaryMap: { AttachedPoliciesPerUserQuota: 15, AttachedPoliciesPerRoleQuota: 20 } });

    await expect(cached.attachedPolicyQuota(bob)).resolves.toEqual({ attached: [], quota: 20 });
    await expect(cached.attachedPolicyQuota(bob)).resolves.toEqual({ attached: [], quota: 20 });
    expect(iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 1);
    // alice has 1 attached, at the cached limit of 1: the quota was raised since, and is read again.
    iam
      .on(ListAttachedUserPoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyName: 'a', PolicyArn: 'arn:aws:iam::aws:policy/a' }] });
    await expect(cached.attachedPolicyQuota(alice)).resolves.toEqual({
      attached: ['arn:aws:iam::aws:policy/a'],
      quota: 15,
    });
    expect(iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 2);
    // The attachments themselves are never cached: they change with every grant.
    expect(iam).toHaveReceivedCommandTimes(ListAttachedRolePoliciesCommand, 2);
  });

  it('reads the quotas when built with readQuotasAtStart, and asks again after that read failed', async () => {
    iam.on(ListAttachedUserPoliciesCommand).resolves({ AttachedPolicies: [] });
    iam
      .on(GetAccountSummaryCommand)
      .rejectsOnce(new ServiceFailureException({ message: 'down', ...meta }))
      .resolves(summary);

    const early = createIamAccessControl(new IAMClient({ region: 'us-east-1' }), {
      accountId: ACCOUNT,
      readQuotasAtStart: true,
    });
    expect(iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 1);
    await new Promise((resolve) => setImmediate(resolve));

    await expect(early.attachedPolicyQuota(alice)).resolves.toEqual({ attached: [], quota: 10 });
    await expect(early.attachedPolicyQuota(alice)).resolves.toEqual({ attached: [], quota: 10 });
    expect(iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 2);
  });

  it("falls back to IAM's default quota of 10 when the summary leaves it out", async () => {
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: {} });

    await expect(fresh().attachedPolicyQuota(bob)).resolves.toEqual({ attached: [], quota: 10 });
  });

  it('throws NoSuchEntity for a principal that does not exist', async () => {
    iam
      .on(ListAttachedUserPoliciesCommand)
      .rejects(new NoSuchEntityException({ message: 'The user alice cannot be found.', ...meta }));

    await expect(fresh().attachedPolicyQuota(alice)).rejects.toMatchObject({
      code: 'NoSuchEntity',
      message: expect.stringContaining('ListAttachedUserPolicies'),
    });
  });
});

describe('setRunAs and clearRunAs', () => {
  it('tags a user and a role with SSMSessionRunAs', async () => {
    iam.on(TagUserCommand).resolves({});
    iam.on(TagRoleCommand).resolves({});

    await accessControl.setRunAs(alice, 'pi-ops');
    await accessControl.setRunAs(bob, 'ec2-user');

    expect(inputOf(TagUserCommand)).toEqual({
      UserName: 'alice',
      Tags: [{ Key: 'SSMSessionRunAs', Value: 'pi-ops' }],
    });
    expect(inputOf(TagRoleCommand)).toEqual({
      RoleName: 'oncall-bob',
      Tags: [{ Key: 'SSMSessionRunAs', Value: 'ec2-user' }],
    });
  });

  it('throws a tagging failure as AccessControlError', async () => {
    iam
      .on(TagRoleCommand)
      .rejects(new NoSuchEntityException({ message: 'The role oncall-bob cannot be found.', ...meta }));

    await expect(accessControl.setRunAs(bob, 'pi-ops')).rejects.toMatchObject({
      name: 'AccessControlError',
      code: 'NoSuchEntity',
      message: expect.stringContaining('TagRole'),
    });
  });

  it('untags a user and a role', async () => {
    iam.on(UntagUserCommand).resolves({});
    iam.on(UntagRoleCommand).resolves({});

    await accessControl.clearRunAs(alice);
    await accessControl.clearRunAs(bob);

    expect(inputOf(UntagUserCommand)).toEqual({ UserName: 'alice', TagKeys: ['SSMSessionRunAs'] });
    expect(inputOf(UntagRoleCommand)).toEqual({ RoleName: 'oncall-bob', TagKeys: ['SSMSessionRunAs'] });
  });

  it('succeeds when the principal is gone, and throws anything else', async () => {
    iam
      .on(UntagUserCommand)
      .rejects(new NoSuchEntityException({ message: 'The user alice cannot be found.', ...meta }));
    iam.on(UntagRoleCommand).rejects(new ServiceFailureException({ message: 'oops', ...meta }));

    await expect(accessControl.clearRunAs(alice)).resolves.toBeUndefined();
    await expect(accessControl.clearRunAs(bob)).rejects.toMatchObject({
      code: 'ServiceFailure',
      message: expect.stringContaining('UntagRole'),
    });
  });
});
