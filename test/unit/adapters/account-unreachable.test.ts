import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AccountUnreachableError,
  assumedRoleCredentials,
} from '../../../src/adapters/aws/assumed-role-credentials';
import { createIamAccessControl } from '../../../src/adapters/aws/iam-access-control';
import { createSsmCommandRunner } from '../../../src/adapters/aws/ssm-command-runner';
import { createSsmFleet } from '../../../src/adapters/aws/ssm-fleet';
import type { Principal } from '../../../src/domain/principal';
import { AccessControlError } from '../../../src/ports/access-control';
import { CommandRunnerError, type SendCommandRequest } from '../../../src/ports/command-runner';

/*
 * A member account whose grantor role cannot be assumed, through real SDK clients: their credentials
 * provider (src/adapters/aws/assumed-role-credentials.ts) rejects, the SDK hands that rejection back
 * unchanged before it signs, and each adapter turns it into its port's error with code
 * `AccountUnreachable`. A local HTTP server stands for IAM and SSM and counts what reaches it.
 */

const FACTORY = '444455556666';
const ROLE = `arn:aws:iam::${FACTORY}:role/keyturn-grantor`;
const STS_TEXT =
  'User: arn:aws:sts::123456789012:assumed-role/keyturn-fn/x is not authorized to perform: sts:AssumeRole';
const SENTENCE = `Keyturn could not assume ${ROLE} in account ${FACTORY} (AccessDenied); check that the grantor template is deployed there and trusts Keyturn's role`;
const alice: Principal = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' };
const POLICY = `arn:aws:iam::${FACTORY}:policy/keyturn/keyturn-g1`;
const request: SendCommandRequest = {
  documentName: 'AWS-RunShellScript',
  targetTags: { Fleet: 'factory-pi' },
  commands: ['uptime'],
  deliveryTimeoutSeconds: 300,
  comment: 'Keyturn run r1 by U0ALICE: uptime on factory-pi',
};

let server: Server;
let endpoint: string;
const received: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(req);
    req.resume();
    req.on('end', () => {
      // Enough of an answer for the one read the recovery test makes (SSM's JSON protocol).
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(JSON.stringify({ InstanceInformationList: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const sts = new STSClient({ region: 'ap-northeast-1' });
const stsMock = mockClient(sts);

beforeEach(() => {
  received.length = 0;
  stsMock.reset();
  stsMock.on(AssumeRoleCommand).rejects(
    new STSServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: STS_TEXT,
    }),
  );
});

/** Clients for the factory account as src/main/aws-places.ts builds them: the grantor role's provider. */
function factoryClients() {
  const credentials = assumedRoleCredentials({ sts, roles: { [FACTORY]: ROLE } })(FACTORY);
  if (!credentials) throw new Error('a member account gets a provider');
  const config = { region: 'ap-northeast-3', endpoint, credentials, maxAttempts: 3 };
  return {
    iam: new IAMClient(config),
    ssm: new SSMClient(config),
    // SendCommand's own client: one attempt (src/main/run-ports.ts).
    send: new SSMClient({ ...config, maxAttempts: 1 }),
  };
}

async function failure(call: Promise<unknown>): Promise<Error> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

it('the SDK hands back the provider rejection itself, without retrying it or sending anything', async () => {
  const { ssm } = factoryClients();
  const error = await failure(createSsmFleet(ssm).nodesTagged({ Fleet: 'factory-pi' }));
  expect(error).toBeInstanceOf(AccountUnreachableError);
  // maxAttempts 3, yet one AssumeRole: a credentials failure is not retried by the SDK.
  expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  expect(received).toHaveLength(0);
});

describe('IAM in an unreachable account', () => {
  const calls: [string, (access: ReturnType<typeof createIamAccessControl>) => Promise<unknown>][] = [
    [
      'CreatePolicy',
      (a) =>
        a.createPolicy({
          name: 'keyturn-g1',
          path: '/keyturn/',
          description: 'g1',
          document: { Version: '2012-10-17', Statement: [] },
          tags: {},
        }),
    ],
    ['AttachRolePolicy', (a) => a.attachPolicy(alice, POLICY)],
    ['DetachRolePolicy', (a) => a.detachPolicy(alice, POLICY)],
    ['ListPolicyVersions', (a) => a.deletePolicy(POLICY)],
    ['ListPolicies', (a) => a.listPolicies('/keyturn/')],
    ['ListEntitiesForPolicy', (a) => a.detachFromAll(POLICY)],
    ['ListAttachedRolePolicies', (a) => a.attachedPolicyQuota(alice)],
    ['TagRole', (a) => a.setRunAs(alice, 'pi-ops')],
    ['UntagRole', (a) => a.clearRunAs(alice)],
    [
      'SimulatePrincipalPolicy',
      (a) => a.canStartSession(alice, { nodeArn: 'arn:aws:ssm:x', tags: {}, at: '2026-11-23T10:00:00Z' }),
    ],
  ];

  it.each(calls)(
    '%s is not sent: AccountUnreachable, transient, in the sentence naming the role',
    async (_operation, call) => {
      const { iam } = factoryClients();
      const error = await failure(call(createIamAccessControl(iam, { accountId: FACTORY })));
      expect(error).toBeInstanceOf(AccessControlError);
      expect(error).toMatchObject({ code: 'AccountUnreachable', transient: true });
      // The sentence itself, which callers show to people (src/app/apply-grant.ts on main: refusedStep).
      expect(error.message).toBe(SENTENCE);
      expect(error.message).not.toContain('not authorized');
      expect(error.cause).toBeInstanceOf(AccountUnreachableError);
      expect(received).toHaveLength(0);
    },
  );

  it('an absent principal is still told from an unreachable account: detach and untag do not pass it off as done', async () => {
    const { iam } = factoryClients();
    const access = createIamAccessControl(iam, { accountId: FACTORY });
    await expect(access.detachPolicy(alice, POLICY)).rejects.toMatchObject({ code: 'AccountUnreachable' });
    await expect(access.clearRunAs(alice)).rejects.toMatchObject({ code: 'AccountUnreachable' });
    await expect(access.deletePolicy(POLICY)).rejects.toMatchObject({ code: 'AccountUnreachable' });
  });
});

describe('Run Command in an unreachable account', () => {
  it("SendCommand fails as not sent (nothing reached SSM) and retryable, so the worker's retry may send it", async () => {
    const { ssm, send } = factoryClients();
    const runner = createSsmCommandRunner(ssm, { sendClient: send });
    const error = await failure(runner.sendCommand(request));
    expect(error).toBeInstanceOf(CommandRunnerError);
    expect(error).toMatchObject({ code: 'AccountUnreachable', sent: 'no', retryable: true });
    expect(error.message).toBe(SENTENCE);
    expect(received).toHaveLength(0);
  });

  it.each([
    ['progress', (r: ReturnType<typeof createSsmCommandRunner>) => r.progress('cmd-1')],
    ['result', (r: ReturnType<typeof createSsmCommandRunner>) => r.result('cmd-1', 'mi-1')],
    [
      'findCommand',
      (r: ReturnType<typeof createSsmCommandRunner>) => r.findCommand('c', '2026-11-23T10:00:00Z'),
    ],
  ])('%s fails with AccountUnreachable too', async (_what, call) => {
    const { ssm, send } = factoryClients();
    const error = await failure(call(createSsmCommandRunner(ssm, { sendClient: send })));
    expect(error).toMatchObject({ name: 'CommandRunnerError', code: 'AccountUnreachable', sent: 'no' });
    expect(received).toHaveLength(0);
  });
});

describe('the fleet in an unreachable account', () => {
  it.each([
    ['nodesTagged', (f: ReturnType<typeof createSsmFleet>) => f.nodesTagged({ Fleet: 'factory-pi' })],
    ['activeSessions', (f: ReturnType<typeof createSsmFleet>) => f.activeSessions({ owner: 'x' })],
    ['sessionsSince', (f: ReturnType<typeof createSsmFleet>) => f.sessionsSince('2026-11-23T10:00:00Z')],
    ['terminateSession', (f: ReturnType<typeof createSsmFleet>) => f.terminateSession('alice-0a1b')],
  ])('%s fails with code AccountUnreachable and the sentence naming the role', async (_what, call) => {
    const { ssm } = factoryClients();
    const error = await failure(call(createSsmFleet(ssm)));
    expect(error).toMatchObject({ code: 'AccountUnreachable', accountId: FACTORY, roleArn: ROLE });
    expect(error.message).toBe(SENTENCE);
    expect(error.message).not.toContain('not authorized');
    expect(received).toHaveLength(0);
  });
});

it('the same client works once the role can be assumed: neither the SDK nor Keyturn kept the failure', async () => {
  const { ssm } = factoryClients();
  const fleet = createSsmFleet(ssm);
  await expect(fleet.nodesTagged({ Fleet: 'factory-pi' })).rejects.toMatchObject({
    code: 'AccountUnreachable',
  });

  stsMock.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAFACTORY',
      SecretAccessKey: 'factory-secret',
      SessionToken: 'factory-token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
  expect(await fleet.nodesTagged({ Fleet: 'factory-pi' })).toEqual([]);
  expect(received).toHaveLength(1);
  // Signed with the grantor role's keys, for the place's region.
  expect(received[0]?.headers.authorization).toContain('Credential=ASIAFACTORY/');
  expect(received[0]?.headers.authorization).toContain('/ap-northeast-3/ssm/aws4_request');
  expect(received[0]?.headers['x-amz-security-token']).toBe('factory-token');
});
