import { randomBytes } from 'node:crypto';
import type { Simulation } from '@cloud-copilot/iam-simulate';
import type { SandboxNode } from '../../config/types';
import { type ManagedNode, nodeArn } from '../../domain/node';
import type { PolicyDocument } from '../../domain/policy-document';
import { accessRoleName, type Person, trustPolicy } from '../../domain/person';
import {
  ACCESS_ROLE_PATH,
  type AwsAccount,
  assumedRoleArn,
  iamRoleArn,
  iamUserArn,
  type Partition,
  type Principal,
  partitionOfRegion,
  principalArn,
} from '../../domain/principal';
import { type AccessControl, AccessControlError } from '../../ports/access-control';
import type { Clock } from '../../ports/clock';
import type { Fleet, SessionInfo } from '../../ports/fleet';

/** Managed policy size limit, whitespace not counted, the default attachment quota and the version limit (FACTS.md). */
const POLICY_SIZE_LIMIT = 6_144;
const DEFAULT_ATTACHED_POLICIES_QUOTA = 10;
const MAX_POLICY_VERSIONS = 5;
const RUN_SHELL_DOCUMENT = 'SSM-SessionManagerRunShell';

export type AccessControlOp = keyof AccessControl;
/** The Fleet port's operations, plus `sessionsSince`, which the SSM adapter offers ahead of the port. */
export type FleetOp = keyof Fleet | 'sessionsSince';
export type SimulatedOp = AccessControlOp | FleetOp;

/** The SSM API behind each Fleet operation, so a simulated failure reads like the SSM adapter's. */
const SSM_API: Record<FleetOp, string> = {
  nodesTagged: 'DescribeInstanceInformation',
  activeSessions: 'DescribeSessions',
  sessionsSince: 'DescribeSessions',
  terminateSession: 'TerminateSession',
};

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
  versions: { versionId: string; document: PolicyDocument; isDefault: boolean; createDate: string }[];
}

/** Why Session Manager refused `startSession`: no such node, IAM said no, or the node's agent is not connected. */
export type StartSessionRefusal = 'unknown-node' | 'access-denied' | 'target-not-connected';

export type StartSessionOutcome =
  | { ok: true; session: SessionInfo }
  | { ok: false; reason: StartSessionRefusal };

export interface SimulatedAccountOptions {
  accountId: string;
  region: string;
  /** Derived from the region when absent. */
  partition?: Partition;
  /** The access roles' permissions boundary (src/domain/boundary.ts); it caps every access role's policies. */
  boundary?: PolicyDocument;
  /**
   * The mapped people: an access role acts only if its trust policy lets its person assume it, as
   * they would from their own IAM user, Identity Center session or shared role.
   */
  people?: readonly Person[];
  nodes: readonly SandboxNode[];
  clock: Clock;
  /** Managed policies one user or role may hold; IAM's default is 10. */
  attachedPoliciesQuota?: number;
}

export type Decision = 'allowed' | 'denied';

/** What `snapshot` saves and `restore` reads: IAM's policies and attachments, the Run As tags, sessions. */
export interface SimulatedAccountState {
  policies: SimulatedPolicy[];
  lastVersion: Record<string, number>;
  attachments: Record<string, string[]>;
  runAs: Record<string, string>;
  openSessions: SessionInfo[];
  endedSessions: SessionInfo[];
}

const EMPTY_STATE: SimulatedAccountState = {
  policies: [],
  lastVersion: {},
  attachments: {},
  runAs: {},
  openSessions: [],
  endedSessions: [],
};

/**
 * An in-memory AWS account for tests and sandbox mode: IAM's managed policies and attachments,
 * with IAM's error codes, and a Systems Manager fleet taken from config. Policies are evaluated by
 * a real IAM policy evaluator, so a wrong condition in a grant policy fails here as it would in AWS.
 */
export class SimulatedAccount implements AccessControl, Fleet {
  /** Every port call in order, failed ones included, so tests can count IAM round trips. */
  readonly calls: SimulatedCall[] = [];

  private readonly accountId: string;
  private readonly account: AwsAccount;
  private readonly boundary: PolicyDocument | undefined;
  private readonly people: ReadonlyMap<string, Person>;
  private readonly trusted = new Map<string, boolean>();
  private readonly region: string;
  private readonly nodes: readonly SandboxNode[];
  private readonly clock: Clock;
  private quota: number;
  private readonly policies = new Map<string, SimulatedPolicy>();
  /** IAM numbers versions per policy and never reuses a number, even after deleting a version. */
  private readonly lastVersion = new Map<string, number>();
  private readonly attachments = new Map<string, Set<string>>();
  private readonly runAs = new Map<string, string>();
  private readonly openSessions = new Map<string, SessionInfo>();
  private readonly endedSessions: SessionInfo[] = [];
  private readonly refusingTermination = new Set<string>();
  private readonly failures = new Map<SimulatedOp, string[]>();
  private readonly unpropagatedChecks = new Map<string, number>();
  private propagationChecks = 0;

  constructor(opts: SimulatedAccountOptions) {
    this.accountId = opts.accountId;
    this.region = opts.region;
    this.account = { accountId: opts.accountId, partition: opts.partition ?? partitionOfRegion(opts.region) };
    this.boundary = opts.boundary;
    this.people = new Map((opts.people ?? []).map((p) => [accessRoleName(p.user), p]));
    this.nodes = opts.nodes;
    this.clock = opts.clock;
    this.quota = opts.attachedPoliciesQuota ?? DEFAULT_ATTACHED_POLICIES_QUOTA;
  }

  // ---- test and sandbox controls -------------------------------------------------------------

  /**
   * The next call of `op` fails with `code`, e.g. 'Throttling' or 'LimitExceeded'. Queued, one per call.
   * IAM operations throw AccessControlError(code); Fleet operations throw what the SSM adapter throws:
   * an Error "SSM <Api> failed with <code>" whose cause is named `code`.
   */
  failNext(op: SimulatedOp, code: string): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), code]);
  }

  /** Changes the attached-policies quota for users and roles (IAM's default is 10, raisable to 20). */
  setAttachedPoliciesQuota(quota: number): void {
    this.quota = quota;
  }

  /** The principal's `SSMSessionRunAs` tag, or undefined when it has none. */
  runAsTag(principal: Principal): string | undefined {
    return this.runAs.get(principalKey(principal));
  }

  /**
   * The principal runs `aws ssm start-session`: allowed only if its attached policies (default versions,
   * as committed, with no propagation delay) allow `ssm:StartSession` both on the node, with the node's
   * tags, and on the session document, at the clock's time, as AWS requires. Not logged in `calls`:
   * it is the user's API call, not Keyturn's.
   */
  async startSession(
    principal: Principal,
    nodeId: string,
    document: string = RUN_SHELL_DOCUMENT,
  ): Promise<StartSessionOutcome> {
    const node = this.nodes.find((n) => n.id === nodeId);
    if (!node) return { ok: false, reason: 'unknown-node' };
    const at = this.clock.now().toISOString();
    const onNode = await this.decide(principal, {
      action: 'ssm:StartSession',
      resource: nodeArn({ ...this.account, region: this.region }, node.id),
      context: { ...tagContext(node.tags), 'aws:CurrentTime': at },
    });
    const onDocument = await this.decide(principal, {
      action: 'ssm:StartSession',
      resource: `arn:${this.account.partition}:ssm:${this.region}:${this.accountId}:document/${document}`,
      context: { 'aws:CurrentTime': at },
    });
    if (onNode !== 'allowed' || onDocument !== 'allowed') return { ok: false, reason: 'access-denied' };
    // Authorization comes first in AWS too: an offline node answers TargetNotConnected only to the permitted.
    if (node.ping !== 'Online') return { ok: false, reason: 'target-not-connected' };
    const session: SessionInfo = {
      id: `${this.sessionIdPrefix(principal)}-${randomBytes(9).toString('hex').slice(0, 17)}`,
      owner: this.sessionOwner(principal),
      target: node.id,
      startedAt: at,
      document,
      status: 'Connected',
    };
    this.openSessions.set(session.id, session);
    return { ok: true, session: copy(session) };
  }

  /**
   * The user types `exit`: the session ends with no API call, so nothing is logged in `calls` and
   * only DescribeSessions (activeSessions) can tell. False when no such session is open.
   */
  exitSession(sessionId: string): boolean {
    return this.endSession(sessionId);
  }

  /** From now on, terminateSession reports success for this session but leaves it open, as a stuck agent can. */
  refuseTermination(sessionId: string): void {
    this.refusingTermination.add(sessionId);
  }

  /** The principal's open sessions, as its own `aws ssm describe-sessions` would list them. Not logged in `calls`. */
  openSessionsOf(principal: Principal): SessionInfo[] {
    const owner = this.sessionOwner(principal);
    return copy([...this.openSessions.values()].filter((s) => s.owner === owner));
  }

  /** Ended sessions, oldest end first, with `endedAt`: DescribeSessions State=History. */
  sessionHistory(): SessionInfo[] {
    return copy(this.endedSessions);
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
      resource: nodeArn({ ...this.account, region: this.region }, node.id),
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
    if (principal.kind === 'access-role' && !(await this.mayAssume(principal))) return 'denied';
    const simulation: Simulation = {
      request: {
        // The caller is the principal's session: an access role acts as `assumed-role/<role>/<session name>`.
        principal:
          principal.kind === 'access-role'
            ? this.sessionOwner(principal)
            : principalArn(this.account, principal),
        action: request.action,
        resource: { resource: request.resource, accountId: this.accountId },
        contextVariables: {
          'aws:CurrentTime': this.clock.now().toISOString(),
          ...this.identityContext(principal),
          ...this.sessionTagContext(request.resource),
          ...request.context,
        },
      },
      identityPolicies: this.attachedPolicies(principal).flatMap((arn) => {
        const policy = this.policies.get(arn);
        return policy ? [{ name: arn, policy: defaultVersion(policy).document }] : [];
      }),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(principal.kind === 'access-role' &&
        this.boundary && {
          permissionBoundaryPolicies: [{ name: 'keyturn-access-boundary', policy: this.boundary }],
        }),
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
    if (principal.kind === 'user') return `AIDA${id}`;
    return `AROA${id}:${principal.kind === 'access-role' ? principal.sessionName : principal.name}`;
  }

  /**
   * Whether the access role's person may assume it with its pinned session name: its trust policy,
   * evaluated as the role's resource policy for sts:AssumeRole by the person's own identity. An
   * Identity Center user arrives through an AWSReservedSSO_* session whose permission set allows
   * sts:AssumeRole on access roles. Unmapped access roles are not checked (tests that build no people).
   */
  private async mayAssume(principal: Principal & { kind: 'access-role' }): Promise<boolean> {
    const roleName = principal.name;
    const person = this.people.get(roleName);
    if (!person) return true;
    const cacheKey = `${roleName}/${principal.sessionName}`;
    const known = this.trusted.get(cacheKey);
    if (known !== undefined) return known;
    const { runSimulation } =
      require('@cloud-copilot/iam-simulate') as typeof import('@cloud-copilot/iam-simulate');
    const { identity } = person;
    // The session name the caller asks for; the trust policy pins the one it accepts.
    const sessionName = principal.sessionName;
    const id = (name: string) =>
      name
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')
        .padEnd(17, '0');
    let arn: string;
    let context: Record<string, string>;
    if (identity.kind === 'iam-user') {
      arn = iamUserArn(this.account, identity.name, identity.path);
      context = {
        'aws:PrincipalArn': arn,
        'aws:username': identity.name,
        'aws:userid': `AIDA${id(identity.name)}`,
      };
    } else if (identity.kind === 'identity-center') {
      const permissionSet = 'AWSReservedSSO_Sandbox_0123456789abcdef';
      arn = assumedRoleArn(this.account, permissionSet, identity.userName);
      context = {
        'aws:PrincipalArn': iamRoleArn(
          this.account,
          permissionSet,
          `/aws-reserved/sso.amazonaws.com/${this.region}/`,
        ),
        'aws:userid': `AROA${id(permissionSet)}:${identity.userName}`,
      };
    } else {
      arn = assumedRoleArn(this.account, identity.name, identity.sessionName ?? identity.name);
      context = {
        'aws:PrincipalArn': iamRoleArn(this.account, identity.name, identity.path),
        'aws:userid': `AROA${id(identity.name)}:${identity.sessionName ?? identity.name}`,
      };
    }
    const result = await runSimulation(
      {
        request: {
          principal: arn,
          action: 'sts:AssumeRole',
          resource: {
            resource: iamRoleArn(this.account, roleName, ACCESS_ROLE_PATH),
            accountId: this.accountId,
          },
          contextVariables: {
            ...context,
            'aws:PrincipalAccount': this.accountId,
            'sts:RoleSessionName': sessionName,
          },
        },
        identityPolicies: [
          {
            name: 'assume-access-roles',
            policy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'sts:AssumeRole',
                  Resource: iamRoleArn(this.account, '*', ACCESS_ROLE_PATH),
                },
              ],
            },
          },
        ],
        resourcePolicy: trustPolicy(this.account, identity),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    const allowed = result.resultType !== 'error' && result.overallResult === 'Allowed';
    this.trusted.set(cacheKey, allowed);
    return allowed;
  }

  /**
   * Session Manager tags every session `aws:ssmmessages:session-id` = its starter's `aws:userid`
   * (FACTS.md), which is what own-session statements match; known sessions carry it here too.
   */
  private sessionTagContext(resource: string): Record<string, string> {
    const id = /:session\/([^/]+)$/.exec(resource)?.[1];
    const session = id && (this.openSessions.get(id) ?? this.endedSessions.find((s) => s.id === id));
    if (!session) return {};
    const owner = /:(user|assumed-role)\/(.+)$/.exec(session.owner);
    if (!owner) return {};
    const parts = owner[2]!.split('/');
    const starter: Principal =
      owner[1] === 'user'
        ? { kind: 'user', name: parts.at(-1)! }
        : { kind: 'access-role', name: parts[0]!, sessionName: parts[1] ?? '' };
    return { 'ssm:resourceTag/aws:ssmmessages:session-id': this.userId(starter) };
  }

  /** IAM and Session Manager state, as plain JSON, so a sandbox can be stopped and started again. */
  snapshot(): SimulatedAccountState {
    return copy({
      policies: [...this.policies.values()],
      lastVersion: Object.fromEntries(this.lastVersion),
      attachments: Object.fromEntries([...this.attachments].map(([k, arns]) => [k, [...arns]])),
      runAs: Object.fromEntries(this.runAs),
      openSessions: [...this.openSessions.values()],
      endedSessions: this.endedSessions,
    });
  }

  /** Replaces the account's state with a snapshot; with none, forgets everything (the sandbox's reset). */
  restore(state: SimulatedAccountState = EMPTY_STATE): void {
    const s = copy(state);
    this.policies.clear();
    for (const p of s.policies) this.policies.set(p.arn, p);
    this.lastVersion.clear();
    for (const [arn, n] of Object.entries(s.lastVersion)) this.lastVersion.set(arn, n);
    this.attachments.clear();
    for (const [key, arns] of Object.entries(s.attachments)) this.attachments.set(key, new Set(arns));
    this.runAs.clear();
    for (const [key, user] of Object.entries(s.runAs)) this.runAs.set(key, user);
    this.openSessions.clear();
    for (const session of s.openSessions) this.openSessions.set(session.id, session);
    this.endedSessions.length = 0;
    this.endedSessions.push(...s.endedSessions);
    this.refusingTermination.clear();
    this.failures.clear();
    this.unpropagatedChecks.clear();
    this.calls.length = 0;
  }

  // ---- AccessControl -------------------------------------------------------------------------
  // Each port method does what the IAM adapter does with IAM's calls, against IAM's rules below.

  async createPolicy(
    input: Parameters<AccessControl['createPolicy']>[0],
  ): Promise<{ arn: string; created: boolean }> {
    this.begin('createPolicy', [input]);
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

  async createPolicyVersion(policyArn: string, document: PolicyDocument): Promise<void> {
    this.begin('createPolicyVersion', [policyArn, document]);
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

  async listPolicies(pathPrefix: string): Promise<{ arn: string; name: string }[]> {
    this.begin('listPolicies', [pathPrefix]);
    return [...this.policies.values()]
      .filter((p) => p.path.startsWith(pathPrefix))
      .map((p) => ({ arn: p.arn, name: p.name }));
  }

  async detachFromAll(policyArn: string): Promise<{ kind: 'user' | 'role' | 'group'; name: string }[]> {
    this.begin('detachFromAll', [policyArn]);
    const detached: { kind: 'user' | 'role' | 'group'; name: string }[] = [];
    for (const [key, arns] of this.attachments) {
      if (arns.delete(policyArn)) detached.push(principalFromKey(key));
    }
    return detached;
  }

  async attachedPolicyQuota(principal: Principal): Promise<{ attached: string[]; quota: number }> {
    this.begin('attachedPolicyQuota', [principal]);
    return { attached: [...(this.attachments.get(principalKey(principal)) ?? [])], quota: this.quota };
  }

  async setRunAs(principal: Principal, osUser: string): Promise<void> {
    this.begin('setRunAs', [principal, osUser]);
    // TagUser / TagRole overwrite a tag with the same key.
    this.runAs.set(principalKey(principal), osUser);
  }

  async clearRunAs(principal: Principal): Promise<void> {
    this.begin('clearRunAs', [principal]);
    this.runAs.delete(principalKey(principal));
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
    this.lastVersion.delete(policyArn);
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
    this.begin('nodesTagged', [tags]);
    return this.nodes
      .filter((n) => Object.entries(tags).every(([k, v]) => n.tags[k] === v))
      .map((n) => ({ id: n.id, name: n.name, ping: n.ping }));
  }

  async activeSessions(): Promise<SessionInfo[]> {
    this.begin('activeSessions', []);
    return copy([...this.openSessions.values()]);
  }

  /** Like TerminateSession: succeeds for unknown or already ended ids, and for sessions refusing to end. */
  async terminateSession(sessionId: string): Promise<void> {
    this.begin('terminateSession', [sessionId]);
    if (this.refusingTermination.has(sessionId)) return;
    this.endSession(sessionId);
  }

  /** Like the SSM adapter's: ended sessions that started at or after `afterIso` (State=History, InvokedAfter). */
  async sessionsSince(afterIso: string): Promise<SessionInfo[]> {
    this.begin('sessionsSince', [afterIso]);
    const after = Date.parse(afterIso);
    return copy(this.endedSessions.filter((s) => Date.parse(s.startedAt ?? '') >= after));
  }

  // ---- internals -----------------------------------------------------------------------------

  /** Logs the call, then throws the failure queued for it, if any. */
  private begin(op: SimulatedOp, args: unknown[]): void {
    this.calls.push({ op, args: copy(args) });
    const [code, ...rest] = this.failures.get(op) ?? [];
    if (code === undefined) return;
    this.failures.set(op, rest);
    if (isFleetOp(op)) {
      const cause = Object.assign(new Error(`simulated ${code} on ${op}`), { name: code });
      throw new Error(`SSM ${SSM_API[op]} failed with ${code}`, { cause });
    }
    throw new AccessControlError(code, `simulated ${code} on ${op}`);
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
      document: copy(document),
      isDefault: true,
      createDate: this.clock.now().toISOString(),
    });
  }

  private endSession(sessionId: string): boolean {
    const session = this.openSessions.get(sessionId);
    if (!session) return false;
    this.openSessions.delete(sessionId);
    this.refusingTermination.delete(sessionId);
    this.endedSessions.push({ ...session, status: 'Terminated', endedAt: this.clock.now().toISOString() });
    return true;
  }

  /** Session ids start with the caller, which is what grant policies match to let them end their own. */
  private sessionIdPrefix(principal: Principal): string {
    if (principal.kind === 'user') return principal.name;
    // A role session's id starts with its session name (FACTS.md: `Matt-07a16060613c408b5`).
    return principal.kind === 'access-role' ? principal.sessionName : principal.name;
  }

  /** The role session name is the role's name here, as in `userId`. */
  private sessionOwner(principal: Principal): string {
    if (principal.kind === 'user') return principalArn(this.account, principal);
    const sessionName = principal.kind === 'access-role' ? principal.sessionName : principal.name;
    return assumedRoleArn(this.account, principal.name, sessionName);
  }

  private identityContext(principal: Principal): Record<string, string> {
    // aws:username exists only for IAM users (FACTS.md); roles are told apart by aws:userid.
    return principal.kind === 'user'
      ? { 'aws:username': principal.name, 'aws:userid': this.userId(principal) }
      : { 'aws:userid': this.userId(principal) };
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

function isFleetOp(op: SimulatedOp): op is FleetOp {
  return op in SSM_API;
}

function versionNumber(version: { versionId: string }): number {
  return Number(version.versionId.slice(1));
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
