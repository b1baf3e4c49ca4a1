import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { assumedRoleCredentials } from '../adapters/aws/assumed-role-credentials';
import { createIamAccessControl } from '../adapters/aws/iam-access-control';
import { createSsmFleet } from '../adapters/aws/ssm-fleet';
import type { Config } from '../config/types';
import { type Place, placeKey } from '../domain/place';
import type { AccessControl } from '../ports/access-control';
import type { AwsPlaces } from '../ports/aws-places';
import type { CommandRunner } from '../ports/command-runner';
import type { Fleet } from '../ports/fleet';
import { awsClientConfig } from './aws-clients';
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
    const credentials =
      place.accountId === aws.accountId ? undefined : opts.credentialsFor?.(place.accountId);
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

/** The grantor role credentials of every member account the config declares, from one STS client. */
export function grantorCredentials(
  config: Pick<Config, 'aws'>,
): (accountId: string) => AwsCredentialIdentityProvider | undefined {
  const roles = Object.fromEntries(
    Object.values(config.aws.accounts).flatMap((a) =>
      a.grantorRoleArn ? [[a.accountId, a.grantorRoleArn]] : [],
    ),
  );
  return assumedRoleCredentials({
    sts: new STSClient(awsClientConfig({ region: config.aws.region })),
    roles,
  });
}
