import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { AccountUnreachableError } from '../../../src/adapters/aws/assumed-role-credentials';
import { grantorCredentials, realAwsPlaces, STS_LIMITS } from '../../../src/main/aws-places';
import type { Config } from '../../../src/config/types';
import type { SendCommandRequest } from '../../../src/ports/command-runner';
import { AWS_ENV, savedEnv } from '../../support/env';

/*
 * realAwsPlaces against a local HTTP server standing for IAM and SSM (AWS_ENDPOINT_URL, which the SDK
 * reads itself): what each request was signed with (keys, region) shows which client, credentials and
 * region each place got.
 */

const HOME = '123456789012';
const FACTORY = '444455556666';
const STAGING = '222233334444';
const config: Pick<Config, 'aws'> = {
  aws: {
    accountId: HOME,
    region: 'ap-northeast-1',
    partition: 'aws',
    accounts: {
      [HOME]: { accountId: HOME, regions: ['ap-northeast-1', 'eu-central-1'] },
      [FACTORY]: {
        accountId: FACTORY,
        alias: 'factory',
        regions: ['ap-northeast-3', 'ap-northeast-1'],
        grantorRoleArn: `arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
      },
      [STAGING]: {
        accountId: STAGING,
        regions: ['ap-northeast-1'],
        grantorRoleArn: `arn:aws:iam::${STAGING}:role/keyturn-grantor`,
      },
    },
  },
};
const request: SendCommandRequest = {
  documentName: 'AWS-RunShellScript',
  targetTags: { Fleet: 'factory-pi' },
  commands: ['uptime'],
  deliveryTimeoutSeconds: 300,
  comment: 'Keyturn run r1 by U0ALICE: uptime on factory-pi',
};

interface Seen {
  target: string;
  keyId: string;
  region: string;
  service: string;
}

let server: Server;
const seen: Seen[] = [];
/** The SSM operation the server answers with a 500, to count attempts. */
let failing: string | undefined;
/** STS: answers AssumeRole, or leaves it unanswered (an outage). */
let sts: 'answers' | 'hangs' = 'answers';
const stsBodies: string[] = [];

function signedBy(headers: IncomingHttpHeaders, body: string): Seen {
  const auth = headers.authorization ?? '';
  const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\//.exec(auth);
  const target =
    (headers['x-amz-target'] as string | undefined)?.split('.')[1] ?? /Action=(\w+)/.exec(body)?.[1] ?? '?';
  return { target, keyId: scope?.[1] ?? '', region: scope?.[2] ?? '', service: scope?.[3] ?? '' };
}

const ssmAnswers: Record<string, unknown> = {
  DescribeInstanceInformation: { InstanceInformationList: [] },
  SendCommand: { Command: { CommandId: 'cmd-1' } },
  ListCommands: { Commands: [] },
};

let env: ReturnType<typeof savedEnv>;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const s = signedBy(req.headers, body);
      seen.push(s);
      if (s.service === 'sts') {
        stsBodies.push(body);
        if (sts === 'hangs') return;
        const account = /arn%3Aaws%3Aiam%3A%3A(\d{12})/.exec(body)?.[1] ?? '';
        res.setHeader('content-type', 'text/xml');
        res.end(
          `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA${account}</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>${new Date(Date.now() + 3_600_000).toISOString()}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
        );
        return;
      }
      if (s.service === 'iam') {
        res.setHeader('content-type', 'text/xml');
        res.end(
          '<ListPoliciesResponse><ListPoliciesResult><Policies/><IsTruncated>false</IsTruncated></ListPoliciesResult></ListPoliciesResponse>',
        );
        return;
      }
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (s.target === failing) {
        res.statusCode = 500;
        res.end(JSON.stringify({ __type: 'InternalServerError', message: 'try again' }));
        return;
      }
      res.end(JSON.stringify(ssmAnswers[s.target] ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  env = savedEnv(AWS_ENV);
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Keyturn's own credentials, as the standard chain finds them.
  process.env.AWS_ACCESS_KEY_ID = 'AKIAHOME';
  process.env.AWS_SECRET_ACCESS_KEY = 'home-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.KEYTURN_AWS_MAX_ATTEMPTS = '2';
});

afterAll(async () => {
  env?.restore();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  stsBodies.length = 0;
  sts = 'answers';
  failing = undefined;
  delete process.env.AWS_REGION;
});

/** A grantor provider per member account that records each time a client asks for one. */
function grantor() {
  const asked: string[] = [];
  const credentialsFor = (accountId: string): AwsCredentialIdentityProvider | undefined => {
    if (accountId === HOME) return undefined;
    asked.push(accountId);
    return async () => ({
      accessKeyId: `ASIA${accountId}`,
      secretAccessKey: `secret-${accountId}`,
      sessionToken: `token-${accountId}`,
      expiration: new Date(Date.now() + 3_600_000),
    });
  };
  return { asked, credentialsFor };
}

describe('realAwsPlaces', () => {
  it('builds one IAM client per account, on first use: the home account on its own keys, a member on its grantor role', async () => {
    const { asked, credentialsFor } = grantor();
    const places = realAwsPlaces({ config, credentialsFor });
    expect(asked).toEqual([]);

    const home = places.access(HOME);
    const factory = places.access(FACTORY);
    expect(places.access(HOME)).toBe(home);
    expect(places.access(FACTORY)).toBe(factory);
    expect(places.access(STAGING)).not.toBe(factory);
    // The home account never asks for a grantor role; each member account asks once, however often it is used.
    expect(asked).toEqual([FACTORY, STAGING]);

    await home.listPolicies('/keyturn/');
    await factory.listPolicies('/keyturn/');
    await places.access(STAGING).listPolicies('/keyturn/');
    expect(seen.map((s) => [s.service, s.keyId])).toEqual([
      ['iam', 'AKIAHOME'],
      ['iam', `ASIA${FACTORY}`],
      ['iam', `ASIA${STAGING}`],
    ]);
    expect(asked).toEqual([FACTORY, STAGING]);
  });

  it('builds one Systems Manager client per account and region, shared by the fleet and Run Command there', async () => {
    const { asked, credentialsFor } = grantor();
    const places = realAwsPlaces({ config, credentialsFor });
    const osaka = { accountId: FACTORY, region: 'ap-northeast-3' };
    const factoryTokyo = { accountId: FACTORY, region: 'ap-northeast-1' };
    const homeTokyo = { accountId: HOME, region: 'ap-northeast-1' };

    expect(places.fleet(osaka)).toBe(places.fleet({ ...osaka }));
    expect(places.commands(osaka)).toBe(places.commands({ ...osaka }));
    expect(places.fleet(factoryTokyo)).not.toBe(places.fleet(osaka));
    expect(places.fleet(homeTokyo)).not.toBe(places.fleet(factoryTokyo));
    places.commands(factoryTokyo);
    places.commands(homeTokyo);
    // One provider per member place, none for the home account's.
    expect(asked).toEqual([FACTORY, FACTORY]);

    await places.fleet(osaka).nodesTagged({ Fleet: 'factory-pi' });
    await places.commands(osaka).sendCommand(request);
    await places.fleet(factoryTokyo).nodesTagged({ Fleet: 'factory-pi' });
    await places.commands(homeTokyo).sendCommand(request);
    expect(seen.map((s) => [s.target, s.keyId, s.region])).toEqual([
      ['DescribeInstanceInformation', `ASIA${FACTORY}`, 'ap-northeast-3'],
      ['SendCommand', `ASIA${FACTORY}`, 'ap-northeast-3'],
      ['DescribeInstanceInformation', `ASIA${FACTORY}`, 'ap-northeast-1'],
      ['SendCommand', 'AKIAHOME', 'ap-northeast-1'],
    ]);
  });

  it("names every region but Keyturn's own outright; Keyturn's own honours AWS_REGION, as the SDK does", async () => {
    process.env.AWS_REGION = 'ap-southeast-2';
    const places = realAwsPlaces({ config, credentialsFor: grantor().credentialsFor });
    await places.fleet({ accountId: HOME, region: 'ap-northeast-1' }).nodesTagged({});
    await places.fleet({ accountId: HOME, region: 'eu-central-1' }).nodesTagged({});
    await places.fleet({ accountId: FACTORY, region: 'ap-northeast-3' }).nodesTagged({});
    expect(seen.map((s) => s.region)).toEqual(['ap-southeast-2', 'eu-central-1', 'ap-northeast-3']);

    seen.length = 0;
    delete process.env.AWS_REGION;
    const unset = realAwsPlaces({ config, credentialsFor: grantor().credentialsFor });
    await unset.fleet({ accountId: HOME, region: 'ap-northeast-1' }).nodesTagged({});
    await unset.fleet({ accountId: FACTORY, region: 'eu-central-1' }).nodesTagged({});
    expect(seen.map((s) => s.region)).toEqual(['ap-northeast-1', 'eu-central-1']);
  });

  it('sends SendCommand once even when the answer is lost, while reads keep their retries', async () => {
    const places = realAwsPlaces({ config, credentialsFor: grantor().credentialsFor });
    const osaka = { accountId: FACTORY, region: 'ap-northeast-3' };
    failing = 'SendCommand';
    await expect(places.commands(osaka).sendCommand(request)).rejects.toMatchObject({ sent: 'unknown' });
    expect(seen.filter((s) => s.target === 'SendCommand')).toHaveLength(1);

    failing = 'ListCommands';
    await expect(places.commands(osaka).findCommand('c', '2026-11-23T10:00:00Z')).rejects.toMatchObject({
      name: 'CommandRunnerError',
    });
    // KEYTURN_AWS_MAX_ATTEMPTS=2 in this file.
    expect(seen.filter((s) => s.target === 'ListCommands')).toHaveLength(2);
  });

  it.each([
    ['no grantor provider at all', undefined],
    ['an account the provider does not know (removed from aws.accounts since)', grantor().credentialsFor],
  ])("never acts in another account on Keyturn's own keys: %s", async (_what, credentialsFor) => {
    const gone = '999988887777';
    const places = realAwsPlaces({
      config,
      ...(credentialsFor
        ? { credentialsFor: (id: string) => (id === gone ? undefined : credentialsFor(id)) }
        : {}),
    });
    const sentence = `Account ${gone} is not under aws.accounts in keyturn.yml, so Keyturn has no role to assume there; declare it again (with its grantorRole) so Keyturn can finish what it started in that account`;
    await expect(
      places
        .access(gone)
        .detachPolicy(
          { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
          `arn:aws:iam::${gone}:policy/keyturn/keyturn-g1`,
        ),
    ).rejects.toMatchObject({
      code: 'AccountUnreachable',
      transient: true,
      message: sentence,
    });
    await expect(
      places.commands({ accountId: gone, region: 'ap-northeast-1' }).sendCommand(request),
    ).rejects.toMatchObject({
      code: 'AccountUnreachable',
      sent: 'no',
    });
    await expect(
      places.fleet({ accountId: gone, region: 'ap-northeast-1' }).activeSessions(),
    ).rejects.toMatchObject({
      code: 'AccountUnreachable',
      accountId: gone,
    });
    expect(seen).toEqual([]);
  });
});

describe('grantorCredentials', () => {
  it("assumes each member account's grantor role through STS in Keyturn's own region, and none for the home account", async () => {
    const credentialsFor = grantorCredentials(config);
    expect(credentialsFor(HOME)).toBeUndefined();
    const places = realAwsPlaces({ config, credentialsFor });
    await places.fleet({ accountId: FACTORY, region: 'ap-northeast-3' }).nodesTagged({});
    await places.access(FACTORY).listPolicies('/keyturn/');
    await places.access(STAGING).listPolicies('/keyturn/');
    expect(seen.map((s) => [s.service, s.keyId, s.region])).toEqual([
      ['sts', 'AKIAHOME', 'ap-northeast-1'],
      ['ssm', `ASIA${FACTORY}`, 'ap-northeast-3'],
      // The factory account's keys are kept: IAM's client reuses them without asking STS again. (IAM
      // signs for the client's region here only because the endpoint is overridden.)
      ['iam', `ASIA${FACTORY}`, 'ap-northeast-1'],
      ['sts', 'AKIAHOME', 'ap-northeast-1'],
      ['iam', `ASIA${STAGING}`, 'ap-northeast-1'],
    ]);
    expect(decodeURIComponent(stsBodies[0] ?? '')).toContain(
      `RoleArn=arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
    );
  });

  it("gives up on an STS that does not answer after a bounded wait, as that account's failure only", async () => {
    sts = 'hangs';
    const limits = { ...STS_LIMITS, requestTimeoutMs: 150 };
    const places = realAwsPlaces({ config, credentialsFor: grantorCredentials(config, limits) });
    const started = Date.now();
    const error = await places
      .fleet({ accountId: FACTORY, region: 'ap-northeast-3' })
      .nodesTagged({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountUnreachableError);
    expect(error).toMatchObject({ accountId: FACTORY, stsCode: 'TimeoutError' });
    // KEYTURN_AWS_MAX_ATTEMPTS=2 in this file, below STS_LIMITS.maxAttempts: the lower wins.
    expect(stsBodies).toHaveLength(Math.min(2, STS_LIMITS.maxAttempts));
    expect(Date.now() - started).toBeLessThan(10_000);
    // The home account does not wait on STS at all.
    await places.fleet({ accountId: HOME, region: 'ap-northeast-1' }).nodesTagged({});
    expect(seen.at(-1)).toMatchObject({ service: 'ssm', keyId: 'AKIAHOME' });
  });
});
