import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Credentials are renewed this long before they expire, so no call starts with credentials about to lapse. */
export const RENEW_BEFORE_MS = 5 * 60_000;
/** One hour: the most a role assumed by a role may last (role chaining). */
export const SESSION_SECONDS = 3600;

/**
 * A member account's grantor role could not be assumed: STS refused (the role is missing, its trust
 * does not name Keyturn's role, an SCP) or could not be reached. Carries the account so the caller can
 * fail only that account's work, and a sentence saying what to check, never STS's raw answer.
 */
export class AccountUnreachableError extends Error {
  override readonly name = 'AccountUnreachableError';
  readonly code = 'AccountUnreachable';
  constructor(
    readonly accountId: string,
    readonly roleArn: string,
    /**
     * STS's error name (`AccessDenied`, `RegionDisabledException`, `TimeoutError`, …), or `NotDeclared`
     * when Keyturn has no role to assume there at all.
     */
    readonly stsCode: string,
    options?: { cause?: unknown; sentence?: string },
  ) {
    super(
      options?.sentence ??
        `Keyturn could not assume ${roleArn} in account ${accountId} (${stsCode}); check that the grantor template is deployed there and trusts Keyturn's role`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/**
 * One STS AssumeRole per member account, cached until shortly before it expires; concurrent callers
 * share one call. A failure is not cached: the next call tries again.
 */
export function assumedRoleCredentials(opts: {
  sts: STSClient;
  /** accountId → the grantor role's ARN. */
  roles: Readonly<Record<string, string>>;
  now?: () => number;
  /** `RoleSessionName`: shows in the member account's CloudTrail as who acted. */
  sessionName?: string;
}): (accountId: string) => AwsCredentialIdentityProvider | undefined {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { credentials: AwsCredentialIdentity; renewAt: number }>();
  const inFlight = new Map<string, Promise<AwsCredentialIdentity>>();

  const assume = async (accountId: string, roleArn: string): Promise<AwsCredentialIdentity> => {
    let answer: AssumeRoleCommandOutput;
    try {
      answer = await opts.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: opts.sessionName ?? 'keyturn',
          DurationSeconds: SESSION_SECONDS,
        }),
      );
    } catch (error) {
      throw new AccountUnreachableError(accountId, roleArn, stsErrorCode(error), { cause: error });
    }
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new AccountUnreachableError(accountId, roleArn, 'InvalidResponse');
    const credentials: AwsCredentialIdentity = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
    cache.set(accountId, { credentials, renewAt: c.Expiration.getTime() - RENEW_BEFORE_MS });
    return credentials;
  };

  return (accountId) => {
    const roleArn = Object.hasOwn(opts.roles, accountId) ? opts.roles[accountId] : undefined;
    if (roleArn === undefined) return undefined;
    return async () => {
      const cached = cache.get(accountId);
      if (cached && now() < cached.renewAt) return cached.credentials;
      let pending = inFlight.get(accountId);
      if (!pending) {
        pending = assume(accountId, roleArn).finally(() => inFlight.delete(accountId));
        inFlight.set(accountId, pending);
      }
      return pending;
    };
  };
}

/**
 * STS's error name (`AccessDenied`, `RegionDisabledException`), the SDK's (`TimeoutError`), or for a
 * socket error that reached us unwrapped, Node's code (`ECONNREFUSED`): never the message, which is STS's raw text.
 */
function stsErrorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Error';
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  if (typeof code === 'string' && /^[A-Z][A-Z_]+$/.test(code)) return code;
  return 'Error';
}
