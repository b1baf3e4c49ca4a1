import {
  createSlackSecretSource,
  SECRET_RETRY_MS,
  SECRET_TTL_MS,
  SecretReadError,
} from '../../src/main/secrets';

// Slack secrets on Lambda: SecureString parameters named by environment variables, read with
// decryption at cold start, cached with an expiry. A fake SSM stands in for Parameter Store.

const ENV = {
  SLACK_BOT_TOKEN_PARAM: '/keyturn/prod/slack-bot-token',
  SLACK_SIGNING_SECRET_PARAM: '/keyturn/prod/slack-signing-secret',
};

class FakeParameterStore {
  readonly values = new Map<string, string>([
    [ENV.SLACK_BOT_TOKEN_PARAM, 'xoxb-first'],
    [ENV.SLACK_SIGNING_SECRET_PARAM, 'signing-first'],
  ]);
  /** Names asked for; decryption is the reader's (src/adapters/aws/ssm-parameters.ts, bundle.test.ts checks the wire). */
  readonly requests: { Names: readonly string[] }[] = [];
  failing = false;

  /** GetParameters: the names it knows, with their values; an unknown one is left out (SSM's InvalidParameters). */
  readonly read = async (names: readonly string[]): Promise<ReadonlyMap<string, string | undefined>> => {
    this.requests.push({ Names: names });
    await Promise.resolve();
    if (this.failing) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    return new Map(names.flatMap((name) => (this.values.has(name) ? [[name, this.values.get(name)]] : [])));
  };
}

function setup(env: Record<string, string | undefined> = ENV) {
  const store = new FakeParameterStore();
  let now = 1_000_000;
  const stale: SecretReadError[] = [];
  const source = createSlackSecretSource({
    env,
    readParameters: store.read,
    now: () => now,
    onStale: (e) => stale.push(e),
  });
  return { store, source, stale, advance: (ms: number) => (now += ms) };
}

describe('Slack secrets from Parameter Store', () => {
  it('reads both SecureStrings in one GetParameters', async () => {
    const { store, source } = setup();
    expect(await source.get()).toEqual({ botToken: 'xoxb-first', signingSecret: 'signing-first' });
    expect(store.requests).toEqual([{ Names: [ENV.SLACK_BOT_TOKEN_PARAM, ENV.SLACK_SIGNING_SECRET_PARAM] }]);
  });

  it('reads only the parameter-named secret from SSM when the other is a plain variable', async () => {
    const { store, source } = setup({
      SLACK_BOT_TOKEN: 'xoxb-local',
      SLACK_SIGNING_SECRET_PARAM: ENV.SLACK_SIGNING_SECRET_PARAM,
    });
    expect(await source.get()).toEqual({ botToken: 'xoxb-local', signingSecret: 'signing-first' });
    expect(store.requests).toEqual([{ Names: [ENV.SLACK_SIGNING_SECRET_PARAM] }]);
  });

  it('reads once for concurrent callers and serves the cache until it expires', async () => {
    const { store, source, advance } = setup();
    const [a, b] = await Promise.all([source.get(), source.get()]);
    expect(a).toBe(b);
    advance(SECRET_TTL_MS - 1);
    expect(await source.get()).toBe(a);
    expect(store.requests).toHaveLength(1);
  });

  it('re-reads after the expiry, keeping the same object while nothing changed', async () => {
    const { store, source, advance } = setup();
    const first = await source.get();
    advance(SECRET_TTL_MS);
    expect(await source.get()).toBe(first);
    expect(store.requests).toHaveLength(2);
  });

  it('hands out a new object once a secret was rotated', async () => {
    const { store, source, advance } = setup();
    const first = await source.get();
    store.values.set(ENV.SLACK_SIGNING_SECRET_PARAM, 'signing-second');
    advance(SECRET_TTL_MS);
    const second = await source.get();
    expect(second).not.toBe(first);
    expect(second).toEqual({ botToken: 'xoxb-first', signingSecret: 'signing-second' });
  });

  it('keeps serving cached values when a refresh fails, says which parameter, and retries later', async () => {
    const { store, source, stale, advance } = setup();
    const first = await source.get();
    store.failing = true;
    advance(SECRET_TTL_MS);
    expect(await source.get()).toBe(first);
    expect(stale.map((e) => e.message)).toEqual([
      `cannot read SSM parameters ${ENV.SLACK_BOT_TOKEN_PARAM} (SLACK_BOT_TOKEN_PARAM), ${ENV.SLACK_SIGNING_SECRET_PARAM} (SLACK_SIGNING_SECRET_PARAM): ThrottlingException`,
    ]);
    const requests = store.requests.length;
    advance(SECRET_RETRY_MS - 1);
    await source.get();
    expect(store.requests).toHaveLength(requests);
    store.failing = false;
    advance(1);
    await source.get();
    expect(store.requests.length).toBeGreaterThan(requests);
  });

  it('fails a cold start it cannot serve, naming the parameter, and tries again on the next call', async () => {
    const { store, source } = setup();
    store.values.delete(ENV.SLACK_SIGNING_SECRET_PARAM);
    const error = await source.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretReadError);
    expect(error).toMatchObject({
      code: 'SECRET_UNREADABLE',
      source: ENV.SLACK_SIGNING_SECRET_PARAM,
      message: `cannot read SSM parameter ${ENV.SLACK_SIGNING_SECRET_PARAM} (SLACK_SIGNING_SECRET_PARAM): ParameterNotFound`,
    });
    store.values.set(ENV.SLACK_SIGNING_SECRET_PARAM, 'signing-late');
    expect(await source.get()).toEqual({ botToken: 'xoxb-first', signingSecret: 'signing-late' });
  });

  it('never puts a secret value in an error', async () => {
    const { store, source } = setup();
    store.values.set(ENV.SLACK_SIGNING_SECRET_PARAM, '');
    const error = (await source.get().catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      `SSM parameter ${ENV.SLACK_SIGNING_SECRET_PARAM} (SLACK_SIGNING_SECRET_PARAM) is empty`,
    );
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('xoxb-first');
  });

  it('falls back to plain SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET (local tests) without calling SSM', async () => {
    const { store, source } = setup({ SLACK_BOT_TOKEN: 'xoxb-local', SLACK_SIGNING_SECRET: 'local-secret' });
    expect(await source.get()).toEqual({ botToken: 'xoxb-local', signingSecret: 'local-secret' });
    expect(store.requests).toEqual([]);
  });

  it('prefers the parameter when both a parameter name and a plain value are set', async () => {
    const { source } = setup({ ...ENV, SLACK_BOT_TOKEN: 'xoxb-local' });
    expect((await source.get()).botToken).toBe('xoxb-first');
  });

  it('says which variable is missing', async () => {
    const { source } = setup({ SLACK_SIGNING_SECRET_PARAM: ENV.SLACK_SIGNING_SECRET_PARAM });
    await expect(source.get()).rejects.toThrow(
      'environment variable SLACK_BOT_TOKEN_PARAM (the SecureString parameter name) is not set',
    );
  });
});
