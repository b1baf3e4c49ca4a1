import type { Config } from '../config/types';
import type { Grant } from '../domain/grant';
import type { AwsAccount } from '../domain/principal';
import { POLICY_PATH, type PolicyError, policyName, renderGrantPolicy } from '../domain/policy';
import type { PolicyDocument } from '../domain/policy-document';
import type { Result } from '../domain/result';
import type { Target } from '../domain/target';

/** The one place a grant's policy is rendered: the worker attaches it, `keyturn policy` prints it. */
export function grantPolicy(
  config: Pick<Config, 'aws'>,
  grant: { startsAt: string; expiresAt: string },
  target: Target,
): Result<PolicyDocument, PolicyError> {
  // The target's own account and region: a grant whose target moved since its request is refused before this.
  return renderGrantPolicy({
    accountId: target.account,
    region: target.region,
    partition: config.aws.partition,
    target,
    startsAt: grant.startsAt,
    expiresAt: grant.expiresAt,
  });
}

export function describePolicyError(error: PolicyError): string {
  return error.reason === 'too-large'
    ? `the policy would be ${error.chars} characters, over IAM's ${error.limit}`
    : `the policy is invalid: ${error.problems.join('; ')}`;
}

/** The policy ARN of this grant in the account it was requested in. */
export function policyArnOfGrant(aws: Config['aws'], grant: Pick<Grant, 'id' | 'account'>): string {
  return grantPolicyArn({ partition: aws.partition, accountId: grant.account ?? aws.accountId }, grant.id);
}

/** Deterministic, so clean-up can find a policy even when the step that created it crashed before recording it. */
export function grantPolicyArn(account: AwsAccount, grantId: string): string {
  return `arn:${account.partition}:iam::${account.accountId}:policy${POLICY_PATH}${policyName(grantId)}`;
}
