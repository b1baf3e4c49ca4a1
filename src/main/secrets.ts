import type { ParameterReader } from '../adapters/aws/ssm-parameters';

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
  /** GetParameter with decryption: on Lambda one signed HTTPS call (src/adapters/aws/ssm-parameters.ts). */
  readParameter: ParameterReader;
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
      const [botToken, signingSecret] = await Promise.all([
        readSecret(opts.env, opts.readParameter, SOURCES.botToken),
        readSecret(opts.env, opts.readParameter, SOURCES.signingSecret),
      ]);
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

async function readSecret(
  env: Record<string, string | undefined>,
  readParameter: ParameterReader,
  source: (typeof SOURCES)[keyof typeof SOURCES],
): Promise<string> {
  const name = env[source.parameterEnv];
  if (!name) {
    const plain = env[source.valueEnv];
    if (plain) return plain;
    throw new SecretReadError(
      source.parameterEnv,
      `environment variable ${source.parameterEnv} (the SecureString parameter name) is not set`,
    );
  }
  let value: string | undefined;
  try {
    value = await readParameter(name);
  } catch (error) {
    const why = (error as { name?: string }).name ?? 'Error';
    throw new SecretReadError(name, `cannot read SSM parameter ${name} (${source.parameterEnv}): ${why}`, {
      cause: error,
    });
  }
  if (!value) throw new SecretReadError(name, `SSM parameter ${name} (${source.parameterEnv}) is empty`);
  return value;
}
