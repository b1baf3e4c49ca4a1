import type { Simulation } from '@cloud-copilot/iam-simulate';
import type { SandboxNode } from '../../config/types';
import { type ManagedNode, nodeArn } from '../../domain/node';
import type { PolicyDocument } from '../../domain/policy-document';
import { type Principal, principalArn } from '../../domain/principal';
import { type AccessControl, AccessControlError } from '../../ports/access-control';
import type { Clock } from '../../ports/clock';
import type { Fleet } from '../../ports/fleet';

/** Managed policy size limit, whitespace not counted, and the default attachment quota (FACTS.md). */
const POLICY_SIZE_LIMIT = 6_144;
const DEFAULT_ATTACHED_POLICIES_QUOTA = 10;

export type AccessControlOp = keyof AccessControl;
export type SimulatedOp = AccessControlOp | keyof Fleet;

export interface SimulatedCall {
  op: SimulatedOp;
  args: unknown[];
}

export interface SimulatedPolicy {
  arn: string;
  name: string;
  path: string;
  description: string;
  tags: Record<string, string>;
  createDate: string;
  versions: { versionId: string; document: PolicyDocument; isDefault: boolean }[];
}

export interface SimulatedAccountOptions {
  accountId: string;
  region: string;
  nodes: readonly SandboxNode[];
  clock: Clock;
  /** Managed policies one user or role may hold; IAM's default is 10. */
  attachedPoliciesQuota?: number;
}

export type Decision = 'allowed' | 'denied';

/**
 * An in-memory AWS account for tests and sandbox mode: IAM's managed policies and attachments,
 * with IAM's error codes, and a Systems Manager fleet taken from config. Policies are evaluated by
 * a real IAM policy evaluator, so a wrong condition in a grant policy fails here as it would in AWS.
 */
export class SimulatedAccount implements AccessControl, Fleet {
  /** Every port call in order, failed ones included, so tests can count IAM round trips. */
  readonly calls: SimulatedCall[] = [];

  private readonly accountId: string;
  private readonly region: string;
  private readonly nodes: readonly SandboxNode[];
  private readonly clock: Clock;
  private readonly quota: number;
  private readonly policies = new Map<string, SimulatedPolicy>();
  private readonly attachments = new Map<string, Set<string>>();
  private readonly failures = new Map<AccessControlOp, string[]>();
  private readonly unpropagatedChecks = new Map<string, number>();
  private propagationChecks = 0;

  constructor(opts: SimulatedAccountOptions) {
    this.accountId = opts.accountId;
    this.region = opts.region;
    this.nodes = opts.nodes;
    this.clock = opts.clock;
    this.quota = opts.attachedPoliciesQuota ?? DEFAULT_ATTACHED_POLICIES_QUOTA;
  }

  // ---- test and sandbox controls -------------------------------------------------------------

  /** The next call of `op` throws AccessControlError(code), e.g. 'Throttling' or 'LimitExceeded'. Queued, one per call. */
  failNext(op: AccessControlOp, code: string): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), code]);
  }

  /**
   * IAM is eventually consistent (FACTS.md). After this, every attach stays invisible to the next
   * `checks` canStartSession calls for that principal, which answer false. `evaluate` and `decide`
   * always see the committed state. 0 (the default) means attaches are visible at once.
   */
  setPropagationDelay(checks: number): void {
    this.propagationChecks = checks;
  }

  attachedPolicies(principal: Principal): string[] {
    return [...(this.attachments.get(principalKey(principal)) ?? [])];
  }

  /** The default version's document, as IAM would return it (a copy), or undefined if no such policy. */
  policyDocument(arn: string): PolicyDocument | undefined {
    const policy = this.policies.get(arn);
    return policy ? copy(defaultVersion(policy).document) : undefined;
  }

  policy(arn: string): SimulatedPolicy | undefined {
    const policy = this.policies.get(arn);
    return policy ? copy(policy) : undefined;
  }

  policyArns(): string[] {
    return [...this.policies.keys()];
  }

  /** Whether the principal's attached policies allow a session on a configured node at `at` (default: now). */
  async evaluate(
    principal: Principal,
    nodeId: string,
    at: string = this.clock.now().toISOString(),
  ): Promise<Decision> {
    const node = this.nodes.find((n) => n.id === nodeId);
    if (!node) return 'denied';
    return this.decide(principal, {
      action: 'ssm:StartSession',
      resource: nodeArn(this.region, this.accountId, node.id),
      context: { ...tagContext(node.tags), 'aws:CurrentTime': at },
    });
  }

  /** Any request against the principal's attached policies, e.g. `ssm:TerminateSession` on its own session. */
  async decide(
    principal: Principal,
    request: { action: string; resource: string; context?: Record<string, string | string[]> },
  ): Promise<Decision> {
    // iam-simulate is AGPL-3.0, a devDependency only: loaded on first use so a Lambda never loads it (FACTS.md).
    const { runSimulation } =
      require('@cloud-copilot/iam-simulate') as typeof import('@cloud-copilot/iam-simulate');
    const simulation: Simulation = {
      request: {
        principal: principalArn(this.accountId, principal),
        action: request.action,
        resource: { resource: request.resource, accountId: this.accountId },
        contextVariables: {
          'aws:CurrentTime': this.clock.now().toISOString(),
          ...this.identityContext(principal),
          ...request.context,
        },
      },
      identityPolicies: this.attachedPolicies(principal).flatMap((arn) => {
        const policy = this.policies.get(arn);
        return policy ? [{ name: arn, policy: defaultVersion(policy).document }] : [];
      }),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === 'error') {
      throw new AccessControlError('InvalidInput', `policy evaluation failed: ${result.errors.message}`);
    }
    return result.overallResult === 'Allowed' ? 'allowed' : 'denied';
  }

  /**
   * `aws:userid` as IAM reports it: a unique id for users, `<role id>:<session name>` for roles.
   * The ids are made up but stable, so sandbox session ids (`<userid>-…`) match grant policies.
   */
  userId(principal: Principal): string {
    const id = principal.name
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .padEnd(17, '0');
    return principal.kind === 'user' ? `AIDA${id}` : `AROA${id}:${principal.name}`;
  }

  // ---- AccessControl -------------------------------------------------------------------------

  async createPolicy(
    input: Parameters<AccessControl['createPolicy']>[0],
  ): Promise<{ arn: string; created: boolean }> {
    this.begin('createPolicy', [input]);
    // IAM policy names are unique within an account whatever their path.
    const existing = [...this.policies.values()].find((p) => p.name === input.name);
    if (existing) return { arn: existing.arn, created: false };
    const size = JSON.stringify(input.document).replace(/\s/g, '').length;
    if (size > POLICY_SIZE_LIMIT) {
      throw new AccessControlError(
        'LimitExceeded',
        `Cannot exceed quota for PolicySize: ${POLICY_SIZE_LIMIT} (was ${size})`,
      );
    }
    const arn = `arn:aws:iam::${this.accountId}:policy${input.path}${input.name}`;
    this.policies.set(arn, {
      arn,
      name: input.name,
      path: input.path,
      description: input.description,
      tags: { ...input.tags },
      createDate: this.clock.now().toISOString(),
      versions: [{ versionId: 'v1', document: copy(input.document), isDefault: true }],
    });
    return { arn, created: true };
  }

  async attachPolicy(principal: Principal, policyArn: string): Promise<void> {
    this.begin('attachPolicy', [principal, policyArn]);
    if (!this.policies.has(policyArn)) {
      throw new AccessControlError(
        'NoSuchEntity',
        `Policy ${policyArn} does not exist or is not attachable.`,
      );
    }
    const key = principalKey(principal);
    const attached = this.attachments.get(key) ?? new Set<string>();
    if (attached.has(policyArn)) return;
    if (attached.size >= this.quota) {
      const quotaName = principal.kind === 'user' ? 'PoliciesPerUser' : 'PoliciesPerRole';
      throw new AccessControlError('LimitExceeded', `Cannot exceed quota for ${quotaName}: ${this.quota}`);
    }
    attached.add(policyArn);
    this.attachments.set(key, attached);
    if (this.propagationChecks > 0) this.unpropagatedChecks.set(key, this.propagationChecks);
  }

  async detachPolicy(principal: Principal, policyArn: string): Promise<'detached' | 'already-gone'> {
    this.begin('detachPolicy', [principal, policyArn]);
    return this.attachments.get(principalKey(principal))?.delete(policyArn) ? 'detached' : 'already-gone';
  }

  async deletePolicy(policyArn: string): Promise<'deleted' | 'already-gone'> {
    this.begin('deletePolicy', [policyArn]);
    if (!this.policies.has(policyArn)) return 'already-gone';
    if ([...this.attachments.values()].some((arns) => arns.has(policyArn))) {
      throw new AccessControlError('DeleteConflict', 'Cannot delete a policy attached to entities.');
    }
    // Non-default versions go with the policy: the port's deletePolicy removes them first.
    this.policies.delete(policyArn);
    return 'deleted';
  }

  async canStartSession(
    principal: Principal,
    check: { nodeArn: string; tags: Readonly<Record<string, string>>; at: string },
  ): Promise<boolean> {
    this.begin('canStartSession', [principal, check]);
    const key = principalKey(principal);
    const pending = this.unpropagatedChecks.get(key) ?? 0;
    if (pending > 0) {
      this.unpropagatedChecks.set(key, pending - 1);
      return false;
    }
    const decision = await this.decide(principal, {
      action: 'ssm:StartSession',
      resource: check.nodeArn,
      context: { ...tagContext(check.tags), 'aws:CurrentTime': check.at },
    });
    return decision === 'allowed';
  }

  // ---- Fleet ---------------------------------------------------------------------------------

  async nodesTagged(tags: Readonly<Record<string, string>>): Promise<ManagedNode[]> {
    this.calls.push({ op: 'nodesTagged', args: [tags] });
    return this.nodes
      .filter((n) => Object.entries(tags).every(([k, v]) => n.tags[k] === v))
      .map((n) => ({ id: n.id, name: n.name, ping: n.ping }));
  }

  // ---- internals -----------------------------------------------------------------------------

  /** Logs the call, then throws the failure queued for it, if any. */
  private begin(op: AccessControlOp, args: unknown[]): void {
    this.calls.push({ op, args: copy(args) });
    const [code, ...rest] = this.failures.get(op) ?? [];
    if (code === undefined) return;
    this.failures.set(op, rest);
    throw new AccessControlError(code, `simulated ${code} on ${op}`);
  }

  private identityContext(principal: Principal): Record<string, string> {
    // aws:username exists only for IAM users (FACTS.md); roles are told apart by aws:userid.
    return principal.kind === 'user'
      ? { 'aws:username': principal.name, 'aws:userid': this.userId(principal) }
      : { 'aws:userid': this.userId(principal) };
  }
}

function principalKey(p: Principal): string {
  return `${p.kind}/${p.name}`;
}

function tagContext(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`ssm:resourceTag/${k}`, v]));
}

function defaultVersion(policy: SimulatedPolicy): SimulatedPolicy['versions'][number] {
  const version = policy.versions.find((v) => v.isDefault);
  if (!version) throw new Error(`policy ${policy.arn} has no default version`);
  return version;
}

/** IAM stores JSON, not references: callers mutating what they passed or got must not change the account. */
function copy<T>(value: T): T {
  return structuredClone(value);
}
