import type { PolicyDocument } from '../../domain/policy-document';
import type { Principal } from '../../domain/principal';
import { type AccessControl, AccessControlError } from '../../ports/access-control';
import type { Clock } from '../../ports/clock';

/** Managed policy size limit, whitespace not counted, and the version limit (FACTS.md). */
const POLICY_SIZE_LIMIT = 6_144;
const MAX_POLICY_VERSIONS = 5;

export interface SimulatedPolicy {
  arn: string;
  name: string;
  path: string;
  description: string;
  tags: Record<string, string>;
  createDate: string;
  versions: { versionId: string; document: PolicyDocument; isDefault: boolean; createDate: string }[];
}

/** The IAM part of the account's saved state (simulated-account.ts). */
export interface SimulatedIamState {
  policies: SimulatedPolicy[];
  lastVersion: Record<string, number>;
  attachments: Record<string, string[]>;
  runAs: Record<string, string>;
}

/**
 * IAM's managed policies, their versions and attachments, and the `SSMSessionRunAs` tags, with IAM's
 * rules and error codes: unique names, the size and version limits, the attached-policies quota, no
 * deleting an attached policy. Documents go in and out as copies: IAM stores JSON, not references.
 */
export class SimulatedIamPolicies {
  private readonly policies = new Map<string, SimulatedPolicy>();
  /** IAM numbers versions per policy and never reuses a number, even after deleting a version. */
  private readonly lastVersion = new Map<string, number>();
  private readonly attachments = new Map<string, Set<string>>();
  private readonly runAs = new Map<string, string>();

  constructor(
    private readonly accountId: string,
    private readonly clock: Clock,
    /** Managed policies one user or role may hold. */
    public quota: number,
  ) {}

  create(input: Parameters<AccessControl['createPolicy']>[0]): { arn: string; created: boolean } {
    // IAM policy names are unique within an account whatever their path.
    const existing = [...this.policies.values()].find((p) => p.name === input.name);
    if (existing) return { arn: existing.arn, created: false };
    checkPolicySize(input.document);
    const arn = `arn:aws:iam::${this.accountId}:policy${input.path}${input.name}`;
    this.policies.set(arn, {
      arn,
      name: input.name,
      path: input.path,
      description: input.description,
      tags: { ...input.tags },
      createDate: this.clock.now().toISOString(),
      versions: [],
    });
    this.lastVersion.set(arn, 0);
    this.addVersion(arn, input.document);
    return { arn, created: true };
  }

  /** What the IAM adapter does: prune the oldest non-default versions, then add the new default. */
  createVersion(policyArn: string, document: PolicyDocument): void {
    const policy = this.requirePolicy(policyArn);
    // The adapter's job, as in the IAM adapter: IAM itself refuses a sixth version (addVersion).
    const oldestFirst = policy.versions
      .filter((v) => !v.isDefault)
      .sort((a, b) => a.createDate.localeCompare(b.createDate) || versionNumber(a) - versionNumber(b));
    const excess = policy.versions.length - (MAX_POLICY_VERSIONS - 1);
    for (const stale of oldestFirst.slice(0, Math.max(0, excess))) {
      policy.versions = policy.versions.filter((v) => v !== stale);
    }
    this.addVersion(policyArn, document);
  }

  list(pathPrefix: string): { arn: string; name: string }[] {
    return [...this.policies.values()]
      .filter((p) => p.path.startsWith(pathPrefix))
      .map((p) => ({ arn: p.arn, name: p.name }));
  }

  detachFromAll(policyArn: string): { kind: 'user' | 'role' | 'group'; name: string }[] {
    const detached: { kind: 'user' | 'role' | 'group'; name: string }[] = [];
    for (const [key, arns] of this.attachments) {
      if (arns.delete(policyArn)) detached.push(principalFromKey(key));
    }
    return detached;
  }

  attached(principal: Principal): string[] {
    return [...(this.attachments.get(principalKey(principal)) ?? [])];
  }

  /** Attaches the policy; false when it was attached already. */
  attach(principal: Principal, policyArn: string): boolean {
    if (!this.policies.has(policyArn)) {
      throw new AccessControlError(
        'NoSuchEntity',
        `Policy ${policyArn} does not exist or is not attachable.`,
      );
    }
    const key = principalKey(principal);
    const attached = this.attachments.get(key) ?? new Set<string>();
    if (attached.has(policyArn)) return false;
    if (attached.size >= this.quota) {
      const quotaName = principal.kind === 'user' ? 'PoliciesPerUser' : 'PoliciesPerRole';
      throw new AccessControlError('LimitExceeded', `Cannot exceed quota for ${quotaName}: ${this.quota}`);
    }
    attached.add(policyArn);
    this.attachments.set(key, attached);
    return true;
  }

  detach(principal: Principal, policyArn: string): 'detached' | 'already-gone' {
    return this.attachments.get(principalKey(principal))?.delete(policyArn) ? 'detached' : 'already-gone';
  }

  delete(policyArn: string): 'deleted' | 'already-gone' {
    if (!this.policies.has(policyArn)) return 'already-gone';
    if ([...this.attachments.values()].some((arns) => arns.has(policyArn))) {
      throw new AccessControlError('DeleteConflict', 'Cannot delete a policy attached to entities.');
    }
    // Non-default versions go with the policy: the port's deletePolicy removes them first.
    this.policies.delete(policyArn);
    this.lastVersion.delete(policyArn);
    return 'deleted';
  }

  /** The principal's `SSMSessionRunAs` tag, or undefined when it has none. */
  runAsTag(principal: Principal): string | undefined {
    return this.runAs.get(principalKey(principal));
  }

  /** TagUser / TagRole overwrite a tag with the same key. */
  setRunAs(principal: Principal, osUser: string): void {
    this.runAs.set(principalKey(principal), osUser);
  }

  clearRunAs(principal: Principal): void {
    this.runAs.delete(principalKey(principal));
  }

  /** The default version's document (a copy), or undefined if no such policy. */
  document(arn: string): PolicyDocument | undefined {
    const policy = this.policies.get(arn);
    return policy ? structuredClone(defaultVersion(policy).document) : undefined;
  }

  policy(arn: string): SimulatedPolicy | undefined {
    const policy = this.policies.get(arn);
    return policy ? structuredClone(policy) : undefined;
  }

  arns(): string[] {
    return [...this.policies.keys()];
  }

  /** The default versions of the principal's attached policies, as the evaluator reads them. */
  identityPolicies(principal: Principal): { name: string; policy: PolicyDocument }[] {
    return this.attached(principal).flatMap((arn) => {
      const policy = this.policies.get(arn);
      return policy ? [{ name: arn, policy: defaultVersion(policy).document }] : [];
    });
  }

  snapshot(): SimulatedIamState {
    return structuredClone({
      policies: [...this.policies.values()],
      lastVersion: Object.fromEntries(this.lastVersion),
      attachments: Object.fromEntries([...this.attachments].map(([k, arns]) => [k, [...arns]])),
      runAs: Object.fromEntries(this.runAs),
    });
  }

  restore(state: SimulatedIamState): void {
    const s = structuredClone(state);
    this.policies.clear();
    for (const p of s.policies) this.policies.set(p.arn, p);
    this.lastVersion.clear();
    for (const [arn, n] of Object.entries(s.lastVersion)) this.lastVersion.set(arn, n);
    this.attachments.clear();
    for (const [key, arns] of Object.entries(s.attachments)) this.attachments.set(key, new Set(arns));
    this.runAs.clear();
    for (const [key, user] of Object.entries(s.runAs)) this.runAs.set(key, user);
  }

  private requirePolicy(policyArn: string): SimulatedPolicy {
    const policy = this.policies.get(policyArn);
    if (!policy) throw new AccessControlError('NoSuchEntity', `Policy ${policyArn} does not exist.`);
    return policy;
  }

  /** IAM's CreatePolicyVersion with SetAsDefault: refuses a sixth version and an oversized document. */
  private addVersion(policyArn: string, document: PolicyDocument): void {
    const policy = this.requirePolicy(policyArn);
    if (policy.versions.length >= MAX_POLICY_VERSIONS) {
      throw new AccessControlError(
        'LimitExceeded',
        `A managed policy can have up to ${MAX_POLICY_VERSIONS} versions. Before you create a new version, you must delete an existing version.`,
      );
    }
    checkPolicySize(document);
    const number = (this.lastVersion.get(policyArn) ?? 0) + 1;
    this.lastVersion.set(policyArn, number);
    for (const v of policy.versions) v.isDefault = false;
    policy.versions.push({
      versionId: `v${number}`,
      document: structuredClone(document),
      isDefault: true,
      createDate: this.clock.now().toISOString(),
    });
  }
}

/** Access roles are IAM roles: IAM itself keys both by role name. */
function principalKey(p: Principal): string {
  return `${p.kind === 'user' ? 'user' : 'role'}/${p.name}`;
}

/** IAM names cannot contain '/', so the first one separates kind from name. */
function principalFromKey(key: string): { kind: 'user' | 'role'; name: string } {
  const slash = key.indexOf('/');
  const kind = key.slice(0, slash);
  return { kind: kind === 'role' ? 'role' : 'user', name: key.slice(slash + 1) };
}

function checkPolicySize(document: PolicyDocument): void {
  const size = JSON.stringify(document).replace(/\s/g, '').length;
  if (size > POLICY_SIZE_LIMIT) {
    throw new AccessControlError(
      'LimitExceeded',
      `Cannot exceed quota for PolicySize: ${POLICY_SIZE_LIMIT} (was ${size})`,
    );
  }
}

function versionNumber(version: { versionId: string }): number {
  return Number(version.versionId.slice(1));
}

function defaultVersion(policy: SimulatedPolicy): SimulatedPolicy['versions'][number] {
  const version = policy.versions.find((v) => v.isDefault);
  if (!version) throw new Error(`policy ${policy.arn} has no default version`);
  return version;
}
