import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { AccountUnreachableError, assumedRoleCredentials } from '../adapters/aws/assumed-role-credentials';
import { createIamAccessControl } from '../adapters/aws/iam-access-control';
import { createSsmFleet } from '../adapters/aws/ssm-fleet';
import type { Config } from '../config/types';
import { defaultGrantorRoleArn, type Place, placeKey } from '../domain/place';
import type { AccessControl } from '../ports/access-control';
import type { AwsPlaces } from '../ports/aws-places';
import type { CommandRunner } from '../ports/command-runner';
import type { Fleet } from '../ports/fleet';
import { awsClientConfig, limitedRequestHandler } from './aws-clients';
import { ssmCommandRunner } from './run-ports';

/**
 * Real AWS in every account and region the config serves. Clients are built on first use and kept for
 * the process: IAM once per account, Systems Manager once per account and region. The home account
 * uses Keyturn's own credentials (the standard chain); a member account uses `credentialsFor`, the
 * grantor role's (src/adapters/aws/assumed-role-credentials.ts), so a failure there fails only its calls.
 */
export function realAwsPlaces(opts: {
  config: Pick<Config, 'aws'>;
  /** Read each account's IAM quotas when its adapter is built, off the approval path (issue 13). */
  readQuotasAtStart?: boolean;
  credentialsFor?: (accountId: string) => AwsCredentialIdentityProvider | undefined;
}): AwsPlaces {
  const { aws } = opts.config;
  const iam = new Map<string, AccessControl>();
  const ssm = new Map<string, { fleet: Fleet; commands: CommandRunner }>();

  const clientConfig = (place: Place) => {
    // Never the default chain for another account: those are Keyturn's own keys, and IAM would read
    // the grant's role and policy names in Keyturn's account instead (a revoke would find nothing there).
    const credentials =
      place.accountId === aws.accountId
        ? undefined
        : (opts.credentialsFor?.(place.accountId) ?? noRoleIn(aws, place.accountId));
    // Keyturn's own region honours AWS_REGION (the SDK's variable); every other region is named outright.
    const base = awsClientConfig({ region: place.region });
    const region = place.region === aws.region ? base.region : place.region;
    return { ...base, ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) };
  };

  const ssmAt = (place: Place) => {
    const key = placeKey(place);
    let ports = ssm.get(key);
    if (!ports) {
      const config = clientConfig(place);
      const client = new SSMClient(config);
      ports = { fleet: createSsmFleet(client), commands: ssmCommandRunner(client, config) };
      ssm.set(key, ports);
    }
    return ports;
  };

  return {
    simulated: false,
    access(accountId) {
      let access = iam.get(accountId);
      if (!access) {
        // IAM is global: its client's region only picks the endpoint, so Keyturn's own region serves.
        access = createIamAccessControl(new IAMClient(clientConfig({ accountId, region: aws.region })), {
          accountId,
          partition: aws.partition,
          ...(opts.readQuotasAtStart ? { readQuotasAtStart: true } : {}),
        });
        iam.set(accountId, access);
      }
      return access;
    },
    fleet: (place) => ssmAt(place).fleet,
    commands: (place) => ssmAt(place).commands,
  };
}

/**
 * For an account Keyturn has no grantor role for: one no longer under `aws.accounts` that a grant or
 * run recorded before it was removed. Its calls fail as that account's, and say how to finish them.
 */
function noRoleIn(aws: Config['aws'], accountId: string): AwsCredentialIdentityProvider {
  const roleArn = defaultGrantorRoleArn(aws.partition, accountId);
  return async () => {
    throw new AccountUnreachableError(accountId, roleArn, 'NotDeclared', {
      // Starts with what is true of the account, so it reads as well after "because " (apply-grant).
      sentence: `Account ${accountId} is not under aws.accounts in keyturn.yml, so Keyturn has no role to assume there; declare it again (with its grantorRole) so Keyturn can finish what it started in that account`,
    });
  };
}

/**
 * How long Keyturn waits on STS. An AssumeRole answers in well under a second; one that does not is an
 * outage, and each call of that account's would otherwise wait for it: the SDK sets no timeout of its
 * own (a dropped connection waits for the OS, minutes) and IAM's eight attempts (aws-clients.ts) are
 * for IAM's throttling, which STS does not share. Worst case: 3 attempts of 3 s + 5 s, with backoff.
 */
export const STS_LIMITS = { maxAttempts: 3, connectionTimeoutMs: 3_000, requestTimeoutMs: 5_000 };

/** The grantor role credentials of every member account the config declares, from one STS client. */
export function grantorCredentials(
  config: Pick<Config, 'aws'>,
  limits: typeof STS_LIMITS = STS_LIMITS,
): (accountId: string) => AwsCredentialIdentityProvider | undefined {
  const roles = Object.fromEntries(
    Object.values(config.aws.accounts).flatMap((a) =>
      a.grantorRoleArn ? [[a.accountId, a.grantorRoleArn]] : [],
    ),
  );
  const base = awsClientConfig({ region: config.aws.region });
  return assumedRoleCredentials({
    sts: new STSClient({
      ...base,
      maxAttempts: Math.min(base.maxAttempts, limits.maxAttempts),
      requestHandler: limitedRequestHandler(limits),
    }),
    roles,
  });
}
