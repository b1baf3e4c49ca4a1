import {
  AssumeRoleCommand,
  ExpiredTokenException,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AccountUnreachableError,
  assumedRoleCredentials,
  RENEW_BEFORE_MS,
  SESSION_SECONDS,
} from '../../../src/adapters/aws/assumed-role-credentials';

const HOME = '123456789012';
const FACTORY = '444455556666';
const STAGING = '222233334444';
const roles = {
  [FACTORY]: `arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
  [STAGING]: `arn:aws:iam::${STAGING}:role/ops/keyturn-grantor`,
};
const T0 = Date.parse('2026-11-23T10:00:00Z');
const HOUR = 3_600_000;

const sts = new STSClient({ region: 'ap-northeast-1' });
const mock = mockClient(sts);
let clock = T0;
let issued = 0;

/** What STS answers: fresh keys each time, valid for an hour from the clock's now. */
function answer() {
  issued++;
  return {
    Credentials: {
      AccessKeyId: `ASIA${issued}`,
      SecretAccessKey: `secret-${issued}`,
      SessionToken: `token-${issued}`,
      Expiration: new Date(clock + HOUR),
    },
  };
}

function provider() {
  return assumedRoleCredentials({ sts, roles, now: () => clock });
}

beforeEach(() => {
  mock.reset();
  clock = T0;
  issued = 0;
});

describe('assumedRoleCredentials', () => {
  it('gives no provider for the home account (or any account not declared): Keyturn uses its own credentials there', () => {
    const credentialsFor = provider();
    expect(credentialsFor(HOME)).toBeUndefined();
    // A lookup by id must not find what every object inherits.
    expect(credentialsFor('toString')).toBeUndefined();
    expect(credentialsFor('__proto__')).toBeUndefined();
  });

  it('asks STS once per account, however many callers ask at the same time', async () => {
    mock
      .on(AssumeRoleCommand)
      .callsFake(() => new Promise((resolve) => setTimeout(() => resolve(answer()), 20)));
    const credentialsFor = provider();
    // Separate providers for the same account (one per SDK client) share the one call too.
    const factoryA = credentialsFor(FACTORY);
    const factoryB = credentialsFor(FACTORY);
    const staging = credentialsFor(STAGING);
    if (!factoryA || !factoryB || !staging) throw new Error('member accounts get a provider');

    const got = await Promise.all([factoryA(), factoryB(), factoryA(), staging(), staging(), factoryB()]);

    expect(mock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    const factoryKeys = new Set([got[0], got[1], got[2], got[5]].map((c) => c.accessKeyId));
    const stagingKeys = new Set([got[3], got[4]].map((c) => c.accessKeyId));
    expect(factoryKeys.size).toBe(1);
    expect(stagingKeys.size).toBe(1);
    expect([...factoryKeys][0]).not.toBe([...stagingKeys][0]);
    expect(
      mock
        .commandCalls(AssumeRoleCommand)
        .map((c) => c.args[0].input.RoleArn)
        .sort(),
    ).toEqual([roles[FACTORY], roles[STAGING]].sort());
  });

  it('assumes the grantor role for at most an hour, the cap on a role assumed by a role, under a session name CloudTrail shows', async () => {
    mock.on(AssumeRoleCommand).callsFake(answer);
    await provider()(FACTORY)?.();
    const input = mock.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(input).toEqual({ RoleArn: roles[FACTORY], RoleSessionName: 'keyturn', DurationSeconds: 3600 });
    // STS refuses more than 3,600 s when the caller is itself a role (Lambda's execution role): role chaining.
    expect(SESSION_SECONDS).toBeLessThanOrEqual(3600);
    expect(SESSION_SECONDS).toBeGreaterThanOrEqual(900);
    // RoleSessionName: 2–64 characters of [\w+=,.@-].
    expect(input?.RoleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
  });

  it('hands back the STS credentials with their expiry, so the SDK knows when to ask again', async () => {
    mock.on(AssumeRoleCommand).callsFake(answer);
    expect(await provider()(FACTORY)?.()).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 'secret-1',
      sessionToken: 'token-1',
      expiration: new Date(T0 + HOUR),
    });
  });

  it('keeps the credentials until RENEW_BEFORE_MS before they expire, then assumes the role again', async () => {
    mock.on(AssumeRoleCommand).callsFake(answer);
    const factory = provider()(FACTORY);
    if (!factory) throw new Error('member accounts get a provider');

    expect((await factory()).accessKeyId).toBe('ASIA1');
    clock = T0 + HOUR - RENEW_BEFORE_MS - 1;
    expect((await factory()).accessKeyId).toBe('ASIA1');
    expect(mock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);

    clock = T0 + HOUR - RENEW_BEFORE_MS;
    const renewed = await factory();
    expect(renewed.accessKeyId).toBe('ASIA2');
    expect(renewed.expiration).toEqual(new Date(clock + HOUR));
    expect(mock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    // And the renewed ones are kept in turn.
    clock += 60_000;
    expect((await factory()).accessKeyId).toBe('ASIA2');
    expect(mock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('does not keep a failure: concurrent callers share it, the next call asks STS again', async () => {
    const refusal = new STSServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: `User: arn:aws:sts::${HOME}:assumed-role/keyturn-fn/abc is not authorized to perform: sts:AssumeRole on resource: ${roles[FACTORY]}`,
    });
    mock.on(AssumeRoleCommand).rejectsOnce(refusal).callsFake(answer);
    const factory = provider()(FACTORY);
    if (!factory) throw new Error('member accounts get a provider');

    const failed = await Promise.allSettled([factory(), factory(), factory()]);
    expect(mock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    for (const outcome of failed) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(AccountUnreachableError);
      expect(error).toMatchObject({
        code: 'AccountUnreachable',
        accountId: FACTORY,
        roleArn: roles[FACTORY],
        stsCode: 'AccessDenied',
      });
    }

    expect((await factory()).accessKeyId).toBe('ASIA1');
    expect(mock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("says what failed and what to check in its own sentence, never STS's raw message", async () => {
    const raw = 'User: arn:aws:sts::123456789012:assumed-role/keyturn-fn/abc is not authorized';
    mock.on(AssumeRoleCommand).rejects(
      new STSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: raw,
      }),
    );
    const error = await provider()(FACTORY)?.().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountUnreachableError);
    const { message } = error as Error;
    expect(message).toBe(
      `Keyturn could not assume ${roles[FACTORY]} in account ${FACTORY} (AccessDenied); check that the grantor template is deployed there and trusts Keyturn's role`,
    );
    expect(message).not.toContain('not authorized');
    // The cause keeps STS's answer for the log, where the logger decides what to print.
    expect((error as Error).cause).toBeInstanceOf(STSServiceException);
  });

  it('never carries a secret: a renewal that fails says nothing of the credentials it replaces', async () => {
    mock
      .on(AssumeRoleCommand)
      .callsFakeOnce(answer)
      .rejects(
        new ExpiredTokenException({
          $metadata: {},
          message: 'The security token included in the request is expired',
        }),
      );
    const factory = provider()(FACTORY);
    if (!factory) throw new Error('member accounts get a provider');
    const first = await factory();
    clock = T0 + HOUR;
    const error = await factory().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AccountUnreachable', stsCode: 'ExpiredTokenException' });
    const shown = JSON.stringify({ ...(error as object), message: (error as Error).message });
    for (const secret of [first.secretAccessKey, first.sessionToken, first.accessKeyId]) {
      expect(shown).not.toContain(secret);
    }
    // A failed renewal does not hand out the stale credentials either.
    clock = T0 + HOUR + 1;
    await expect(factory()).rejects.toBeInstanceOf(AccountUnreachableError);
  });

  it("names a network failure by Node's code, not the bare class name", async () => {
    const reset = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    mock.on(AssumeRoleCommand).rejects(reset);
    await expect(provider()(FACTORY)?.()).rejects.toMatchObject({
      stsCode: 'ECONNREFUSED',
      message: expect.stringContaining('(ECONNREFUSED)'),
    });
  });

  it('refuses an answer without complete credentials, and does not keep it', async () => {
    mock
      .on(AssumeRoleCommand)
      .resolvesOnce({
        Credentials: {
          AccessKeyId: 'ASIA0',
          SecretAccessKey: 's',
          SessionToken: '',
          Expiration: new Date(T0 + HOUR),
        },
      })
      .callsFake(answer);
    const factory = provider()(FACTORY);
    await expect(factory?.()).rejects.toMatchObject({
      code: 'AccountUnreachable',
      stsCode: 'InvalidResponse',
    });
    expect((await factory?.())?.accessKeyId).toBe('ASIA1');
  });
});
