import type { Principal } from '../domain/principal';
import type { PolicyDocument } from '../domain/policy-document';

/** IAM, as the grant use cases need it. Adapters translate SDK errors; nothing here leaks an SDK type. */
export interface AccessControl {
  /**
   * Creates a customer-managed policy. If a policy with that path and name already exists (a retried
   * apply after a crash), returns its ARN with `created: false` instead of failing.
   */
  createPolicy(input: {
    name: string;
    path: string;
    description: string;
    document: PolicyDocument;
    tags: Record<string, string>;
  }): Promise<{ arn: string; created: boolean }>;
  /** Idempotent: attaching an attached policy succeeds. */
  attachPolicy(principal: Principal, policyArn: string): Promise<void>;
  detachPolicy(principal: Principal, policyArn: string): Promise<'detached' | 'already-gone'>;
  /** Deletes every non-default version, then the policy. */
  deletePolicy(policyArn: string): Promise<'deleted' | 'already-gone'>;
  /**
   * Makes `document` the policy's default version. IAM keeps at most 5 versions, so the oldest
   * non-default one is deleted first when all 5 exist. Access never drops: the switch is atomic.
   */
  createPolicyVersion(policyArn: string, document: PolicyDocument): Promise<void>;
  /** Customer-managed policies under `pathPrefix` (ListPolicies, Scope Local), all pages. */
  listPolicies(pathPrefix: string): Promise<{ arn: string; name: string }[]>;
  /** Detaches the policy from every user, role and group (ListEntitiesForPolicy); returns who it was on. */
  detachFromAll(policyArn: string): Promise<{ kind: 'user' | 'role' | 'group'; name: string }[]>;
  /**
   * ARNs of the managed policies attached to the principal now, and the account's quota for its kind
   * (GetAccountSummary). ARNs rather than a count, so a retried grant recognizes its own policy.
   */
  attachedPolicyQuota(principal: Principal): Promise<{ attached: readonly string[]; quota: number }>;
  /** Tags the principal `SSMSessionRunAs=<osUser>` (TagUser / TagRole). */
  setRunAs(principal: Principal, osUser: string): Promise<void>;
  /** Removes the `SSMSessionRunAs` tag; succeeds when it is already absent. */
  clearRunAs(principal: Principal): Promise<void>;
  /** Asks IAM itself (SimulatePrincipalPolicy) whether the principal may start a session on the node now. */
  canStartSession(
    principal: Principal,
    check: { nodeArn: string; tags: Readonly<Record<string, string>>; at: string },
  ): Promise<boolean>;
}

/**
 * A failure IAM or the adapter could not recover from; `code` is the IAM error code when there is one.
 * `transient` is true when the same call may succeed later (throttling, a 5xx, the network), after the
 * SDK's own retries ran out; false when it will fail again until someone changes something.
 */
export class AccessControlError extends Error {
  override readonly name = 'AccessControlError';
  readonly transient: boolean;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, options);
    this.transient = options?.transient ?? false;
  }
}
