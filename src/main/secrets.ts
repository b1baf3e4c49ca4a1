import type { ParametersReader } from '../adapters/aws/ssm-parameters';

/** What the Slack side of Keyturn needs and must never print. */
export interface SlackSecrets {
  readonly botToken: string;
  readonly signingSecret: string;
}

/** Where each secret comes from: a SecureString parameter (Lambda) or, for local tests only, the variable itself. */
const SOURCES = {
  botToken: { parameterEnv: 'SLACK_BOT_TOKEN_PARAM', valueEnv: 'SLACK_BOT_TOKEN' },
  signingSecret: { parameterEnv: 'SLACK_SIGNING_SECRET_PARAM', valueEnv: 'SLACK_SIGNING_SECRET' },
} as const;

/** Re-read after this long, so a rotated secret reaches warm containers without a redeploy. */
export const SECRET_TTL_MS = 10 * 60_000;
/** After a failed refresh the cached values stay in use; try again this much later, not on every request. */
export const SECRET_RETRY_MS = 30_000;

export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
  readonly code = 'SECRET_UNREADABLE';
  /** The parameter or variable that could not be read; never its value. */
  readonly source: string;

  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.source = source;
  }
}

export interface SlackSecretSource {
  /**
   * The current secrets, read once and cached until they expire. The same object comes back while
   * the values are unchanged, so a caller can rebuild what it derived from them only on rotation.
   */
  get(): Promise<SlackSecrets>;
}

export function createSlackSecretSource(opts: {
  env: Record<string, string | undefined>;
  /** GetParameters with decryption: on Lambda one signed HTTPS call for both (src/adapters/aws/ssm-parameters.ts). */
  readParameters: ParametersReader;
  now: () => number;
  ttlMs?: number;
  /** Told when a refresh failed and the cached values stay in use; gets the parameter name, never a value. */
  onStale?: (error: SecretReadError) => void;
}): SlackSecretSource {
  const ttl = opts.ttlMs ?? SECRET_TTL_MS;
  let cached: { secrets: SlackSecrets; expiresAt: number } | undefined;
  let inFlight: Promise<SlackSecrets> | undefined;

  async function refresh(): Promise<SlackSecrets> {
    try {
      const { botToken, signingSecret } = await readSecrets(opts.env, opts.readParameters);
      const unchanged =
        cached !== undefined &&
        cached.secrets.botToken === botToken &&
        cached.secrets.signingSecret === signingSecret;
      const secrets = unchanged && cached ? cached.secrets : Object.freeze({ botToken, signingSecret });
      cached = { secrets, expiresAt: opts.now() + ttl };
      return secrets;
    } catch (error) {
      // Without values there is nothing to serve with: the caller fails, and the next call retries.
      if (!cached || !(error instanceof SecretReadError)) throw error;
      opts.onStale?.(error);
      cached = { secrets: cached.secrets, expiresAt: opts.now() + SECRET_RETRY_MS };
      return cached.secrets;
    } finally {
      inFlight = undefined;
    }
  }

  return {
    get() {
      if (cached && opts.now() < cached.expiresAt) return Promise.resolve(cached.secrets);
      inFlight ??= refresh();
      return inFlight;
    },
  };
}

/** Both secrets: the ones named by a parameter in one GetParameters, the others from their plain variable. */
async function readSecrets(
  env: Record<string, string | undefined>,
  readParameters: ParametersReader,
): Promise<SlackSecrets> {
  const sources = Object.values(SOURCES);
  const names = sources.map((source) => env[source.parameterEnv]);
  for (const [i, source] of sources.entries()) {
    if (!names[i] && !env[source.valueEnv])
      throw new SecretReadError(
        source.parameterEnv,
        `environment variable ${source.parameterEnv} (the SecureString parameter name) is not set`,
      );
  }
  const wanted = names.filter((name): name is string => Boolean(name));
  let values: ReadonlyMap<string, string | undefined> = new Map();
  if (wanted.length > 0) {
    try {
      values = await readParameters(wanted);
    } catch (error) {
      const why = (error as { name?: string }).name ?? 'Error';
      const which = sources
        .flatMap((source, i) => (names[i] ? [`${names[i]} (${source.parameterEnv})`] : []))
        .join(', ');
      throw new SecretReadError(
        wanted.join(', '),
        `cannot read SSM parameter${wanted.length > 1 ? 's' : ''} ${which}: ${why}`,
        { cause: error },
      );
    }
  }
  const [botToken, signingSecret] = sources.map((source, i) => {
    const name = names[i];
    if (!name) return env[source.valueEnv] as string;
    if (!values.has(name))
      throw new SecretReadError(
        name,
        `cannot read SSM parameter ${name} (${source.parameterEnv}): ParameterNotFound`,
      );
    const value = values.get(name);
    if (!value) throw new SecretReadError(name, `SSM parameter ${name} (${source.parameterEnv}) is empty`);
    return value;
  }) as [string, string];
  return { botToken, signingSecret };
}
