// The simulated AWS account's face: both ports (AccessControl, Fleet), the user's own Session Manager
// calls, and the test controls. Over ~400 lines because it implements every port method, each a few
// lines that log the call and hand it to IAM's rules (simulated-iam-policies.ts), the evaluator
// (simulated-iam-evaluator.ts) or Session Manager's sessions (simulated-ssm-sessions.ts).
import { randomBytes } from 'node:crypto';
import type { SandboxNode } from '../../config/types';
import { type ManagedNode, nodeArn } from '../../domain/node';
import { accessRoleName, type Person } from '../../domain/person';
import type { PolicyDocument } from '../../domain/policy-document';
import { type AwsAccount, type Partition, type Principal, partitionOfRegion } from '../../domain/principal';
import { type AccessControl, AccessControlError } from '../../ports/access-control';
import type { Clock } from '../../ports/clock';
import type { Fleet, SessionInfo } from '../../ports/fleet';
import {
  type Decision,
  evaluateIdentity,
  type IamRequest,
  mayAssumeAccessRole,
  sessionIdPrefix,
  sessionOwner,
  sessionTagContext,
  tagContext,
  userId,
} from './simulated-iam-evaluator';
import { SimulatedIamPolicies, type SimulatedIamState, type SimulatedPolicy } from './simulated-iam-policies';
import { SimulatedSessions, type SimulatedSessionsState } from './simulated-ssm-sessions';

export type { Decision, SimulatedPolicy };

/** IAM's default quota of managed policies attached to one user or role (FACTS.md). */
const DEFAULT_ATTACHED_POLICIES_QUOTA = 10;
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

/** Why Session Manager refused `startSession`: no such node, IAM said no, or the node's agent is not connected. */
export type StartSessionRefusal = 'unknown-node' | 'access-denied' | 'target-not-connected';

export type StartSessionOutcome =
  | { ok: true; session: SessionInfo }
  | { ok: false; reason: StartSessionRefusal };

export interface SimulatedAccountOptions {
  accountId: string;
  /** The region of nodes that name none (the home account's: Keyturn's own region). */
  region: string;
  /**
   * Where the people's own identities are (Keyturn's home account): an access role in a member account
   * trusts its person there. Absent: this account.
   */
  homeAccountId?: string;
  /** Derived from the region when absent. */
  partition?: Partition;
  /** The access roles' permissions boundary (src/domain/boundary.ts); it caps every access role's policies. */
  boundary?: PolicyDocument;
  /**
   * The mapped people: an access role acts only if its trust policy lets its person assume it, as
   * they would from their own IAM user, Identity Center session or shared role.
   */
  people?: readonly Person[];
  /** This account's nodes, in any of its regions (a node without `region` is in `region`). */
  nodes: readonly SandboxNode[];
  clock: Clock;
  /** Managed policies one user or role may hold; IAM's default is 10. */
  attachedPoliciesQuota?: number;
}

/** What `snapshot` saves and `restore` reads: IAM's policies and attachments, the Run As tags, sessions. */
export type SimulatedAccountState = SimulatedIamState & SimulatedSessionsState;

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
 *
 * This class is the ports' face (AccessControl, Fleet) and the test controls (failNext, call log,
 * propagation delay); IAM's rules live in simulated-iam-policies.ts, the evaluator in
 * simulated-iam-evaluator.ts, Session Manager's sessions in simulated-ssm-sessions.ts.
 */
export class SimulatedAccount implements AccessControl, Fleet {
  /** Every port call in order, failed ones included, so tests can count IAM round trips. */
  readonly calls: SimulatedCall[] = [];

  private readonly account: AwsAccount;
  private readonly home: AwsAccount;
  private readonly region: string;
  private readonly boundary: PolicyDocument | undefined;
  private readonly people: ReadonlyMap<string, Person>;
  /** `<role>/<session name>` → whether its person may assume it: trust policies do not change. */
  private readonly trusted = new Map<string, boolean>();
  private readonly nodes: readonly SandboxNode[];
  private readonly clock: Clock;
  private readonly iam: SimulatedIamPolicies;
  private readonly sessions: SimulatedSessions;
  private readonly failures = new Map<SimulatedOp, string[]>();
  private readonly unpropagatedChecks = new Map<string, number>();
  private propagationChecks = 0;

  constructor(opts: SimulatedAccountOptions) {
    this.region = opts.region;
    this.account = { accountId: opts.accountId, partition: opts.partition ?? partitionOfRegion(opts.region) };
    this.home = { ...this.account, accountId: opts.homeAccountId ?? opts.accountId };
    this.boundary = opts.boundary;
    this.people = new Map((opts.people ?? []).map((p) => [accessRoleName(p.user), p]));
    this.nodes = opts.nodes;
    this.clock = opts.clock;
    this.iam = new SimulatedIamPolicies(
      opts.accountId,
      opts.clock,
      opts.attachedPoliciesQuota ?? DEFAULT_ATTACHED_POLICIES_QUOTA,
    );
    this.sessions = new SimulatedSessions(opts.clock);
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
    this.iam.quota = quota;
  }

  /** The principal's `SSMSessionRunAs` tag, or undefined when it has none. */
  runAsTag(principal: Principal): string | undefined {
    return this.iam.runAsTag(principal);
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
      resource: nodeArn({ ...this.account, region: this.regionOf(node) }, node.id),
      context: { ...tagContext(node.tags), 'aws:CurrentTime': at },
    });
    const onDocument = await this.decide(principal, {
      action: 'ssm:StartSession',
      resource: `arn:${this.account.partition}:ssm:${this.regionOf(node)}:${this.account.accountId}:document/${document}`,
      context: { 'aws:CurrentTime': at },
    });
    if (onNode !== 'allowed' || onDocument !== 'allowed') return { ok: false, reason: 'access-denied' };
    // Authorization comes first in AWS too: an offline node answers TargetNotConnected only to the permitted.
    if (node.ping !== 'Online') return { ok: false, reason: 'target-not-connected' };
    const session: SessionInfo = {
      id: `${sessionIdPrefix(principal)}-${randomBytes(9).toString('hex').slice(0, 17)}`,
      owner: sessionOwner(this.account, principal),
      target: node.id,
      startedAt: at,
      document,
      status: 'Connected',
    };
    this.sessions.add(session);
    return { ok: true, session: copy(session) };
  }

  /**
   * The user types `exit`: the session ends with no API call, so nothing is logged in `calls` and
   * only DescribeSessions (activeSessions) can tell. False when no such session is open.
   */
  exitSession(sessionId: string): boolean {
    return this.sessions.end(sessionId);
  }

  /** From now on, terminateSession reports success for this session but leaves it open, as a stuck agent can. */
  refuseTermination(sessionId: string): void {
    this.sessions.refuseTermination(sessionId);
  }

  /** The principal's open sessions, as its own `aws ssm describe-sessions` would list them. Not logged in `calls`. */
  openSessionsOf(principal: Principal): SessionInfo[] {
    return this.sessions.openOwnedBy(sessionOwner(this.account, principal));
  }

  /** Ended sessions, oldest end first, with `endedAt`: DescribeSessions State=History. */
  sessionHistory(): SessionInfo[] {
    return this.sessions.history();
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
    return this.iam.attached(principal);
  }

  /** The default version's document, as IAM would return it (a copy), or undefined if no such policy. */
  policyDocument(arn: string): PolicyDocument | undefined {
    return this.iam.document(arn);
  }

  policy(arn: string): SimulatedPolicy | undefined {
    return this.iam.policy(arn);
  }

  policyArns(): string[] {
    return this.iam.arns();
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
      resource: nodeArn({ ...this.account, region: this.regionOf(node) }, node.id),
      context: { ...tagContext(node.tags), 'aws:CurrentTime': at },
    });
  }

  /** Any request against the principal's attached policies, e.g. `ssm:TerminateSession` on its own session. */
  async decide(principal: Principal, request: IamRequest): Promise<Decision> {
    if (principal.kind === 'access-role' && !(await this.mayAssume(principal))) return 'denied';
    return evaluateIdentity({
      account: this.account,
      principal,
      request,
      now: this.clock.now().toISOString(),
      identityPolicies: this.iam.identityPolicies(principal),
      boundary: this.boundary,
      sessionTags: sessionTagContext(this.sessions.starterOf(request.resource)),
    });
  }

  /**
   * `aws:userid` as IAM reports it: a unique id for users, `<role id>:<session name>` for roles.
   * The ids are made up but stable, so sandbox session ids (`<userid>-…`) match grant policies.
   */
  userId(principal: Principal): string {
    return userId(principal);
  }

  /** IAM and Session Manager state, as plain JSON, so a sandbox can be stopped and started again. */
  snapshot(): SimulatedAccountState {
    return { ...this.iam.snapshot(), ...this.sessions.snapshot() };
  }

  /** Replaces the account's state with a snapshot; with none, forgets everything (the sandbox's reset). */
  restore(state: SimulatedAccountState = EMPTY_STATE): void {
    this.iam.restore(state);
    this.sessions.restore(state);
    this.failures.clear();
    this.unpropagatedChecks.clear();
    this.calls.length = 0;
  }

  // ---- AccessControl -------------------------------------------------------------------------
  // Each port method does what the IAM adapter does with IAM's calls, against IAM's rules.

  async createPolicy(
    input: Parameters<AccessControl['createPolicy']>[0],
  ): Promise<{ arn: string; created: boolean }> {
    this.begin('createPolicy', [input]);
    return this.iam.create(input);
  }

  async createPolicyVersion(policyArn: string, document: PolicyDocument): Promise<void> {
    this.begin('createPolicyVersion', [policyArn, document]);
    this.iam.createVersion(policyArn, document);
  }

  async listPolicies(pathPrefix: string): Promise<{ arn: string; name: string }[]> {
    this.begin('listPolicies', [pathPrefix]);
    return this.iam.list(pathPrefix);
  }

  async detachFromAll(policyArn: string): Promise<{ kind: 'user' | 'role' | 'group'; name: string }[]> {
    this.begin('detachFromAll', [policyArn]);
    return this.iam.detachFromAll(policyArn);
  }

  async attachedPolicyQuota(principal: Principal): Promise<{ attached: string[]; quota: number }> {
    this.begin('attachedPolicyQuota', [principal]);
    return { attached: this.iam.attached(principal), quota: this.iam.quota };
  }

  async setRunAs(principal: Principal, osUser: string): Promise<void> {
    this.begin('setRunAs', [principal, osUser]);
    this.iam.setRunAs(principal, osUser);
  }

  async clearRunAs(principal: Principal): Promise<void> {
    this.begin('clearRunAs', [principal]);
    this.iam.clearRunAs(principal);
  }

  async attachPolicy(principal: Principal, policyArn: string): Promise<void> {
    this.begin('attachPolicy', [principal, policyArn]);
    const attached = this.iam.attach(principal, policyArn);
    if (attached && this.propagationChecks > 0)
      this.unpropagatedChecks.set(propagationKey(principal), this.propagationChecks);
  }

  async detachPolicy(principal: Principal, policyArn: string): Promise<'detached' | 'already-gone'> {
    this.begin('detachPolicy', [principal, policyArn]);
    return this.iam.detach(principal, policyArn);
  }

  async deletePolicy(policyArn: string): Promise<'deleted' | 'already-gone'> {
    this.begin('deletePolicy', [policyArn]);
    return this.iam.delete(policyArn);
  }

  async canStartSession(
    principal: Principal,
    check: { nodeArn: string; tags: Readonly<Record<string, string>>; at: string },
  ): Promise<boolean> {
    this.begin('canStartSession', [principal, check]);
    const key = propagationKey(principal);
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
  // The account itself answers for all its regions (tests of one region); `fleetIn` for one region, as
  // Systems Manager is regional: its nodes, and the sessions on them.

  /** The account's Systems Manager in one region: only that region's nodes and the sessions on them. */
  fleetIn(region: string): Fleet & Pick<SimulatedAccount, 'sessionsSince'> {
    const here = (s: SessionInfo) => this.regionOfNode(s.target) === region;
    return {
      nodesTagged: async (tags) => {
        this.begin('nodesTagged', [tags]);
        return this.tagged(tags, region);
      },
      activeSessions: async () => {
        this.begin('activeSessions', []);
        return this.sessions.active().filter(here);
      },
      terminateSession: async (sessionId) => {
        this.begin('terminateSession', [sessionId]);
        // Another region's session is an unknown id here: TerminateSession reports success and does nothing.
        if (this.sessions.active().some((s) => s.id === sessionId && here(s)))
          this.sessions.terminate(sessionId);
      },
      sessionsSince: async (afterIso) => {
        this.begin('sessionsSince', [afterIso]);
        return this.sessions.endedSince(afterIso).filter(here);
      },
    };
  }

  async nodesTagged(tags: Readonly<Record<string, string>>): Promise<ManagedNode[]> {
    this.begin('nodesTagged', [tags]);
    return this.tagged(tags);
  }

  async activeSessions(): Promise<SessionInfo[]> {
    this.begin('activeSessions', []);
    return this.sessions.active();
  }

  /** Like TerminateSession: succeeds for unknown or already ended ids, and for sessions refusing to end. */
  async terminateSession(sessionId: string): Promise<void> {
    this.begin('terminateSession', [sessionId]);
    this.sessions.terminate(sessionId);
  }

  /** Like the SSM adapter's: ended sessions that started at or after `afterIso` (State=History, InvokedAfter). */
  async sessionsSince(afterIso: string): Promise<SessionInfo[]> {
    this.begin('sessionsSince', [afterIso]);
    return this.sessions.endedSince(afterIso);
  }

  /** Whether a node of this account has this id. */
  hasNode(nodeId: string): boolean {
    return this.nodes.some((n) => n.id === nodeId);
  }

  // ---- internals -----------------------------------------------------------------------------

  private regionOf(node: SandboxNode): string {
    return node.region ?? this.region;
  }

  /** The region of the node with this id, or undefined for a node this account does not have. */
  private regionOfNode(nodeId: string): string | undefined {
    const node = this.nodes.find((n) => n.id === nodeId);
    return node && this.regionOf(node);
  }

  private tagged(tags: Readonly<Record<string, string>>, region?: string): ManagedNode[] {
    return this.nodes
      .filter((n) => region === undefined || this.regionOf(n) === region)
      .filter((n) => Object.entries(tags).every(([k, v]) => n.tags[k] === v))
      .map((n) => ({ id: n.id, name: n.name, ping: n.ping }));
  }

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

  /**
   * Whether the access role's person may assume it with its pinned session name (its trust policy).
   * Unmapped access roles are not checked (tests that build no people).
   */
  private async mayAssume(principal: Principal & { kind: 'access-role' }): Promise<boolean> {
    const person = this.people.get(principal.name);
    if (!person) return true;
    const cacheKey = `${principal.name}/${principal.sessionName}`;
    const known = this.trusted.get(cacheKey);
    if (known !== undefined) return known;
    const allowed = await mayAssumeAccessRole({
      account: this.account,
      home: this.home,
      region: this.region,
      roleName: principal.name,
      sessionName: principal.sessionName,
      person,
    });
    this.trusted.set(cacheKey, allowed);
    return allowed;
  }
}

/** Attaches are invisible per IAM entity: access roles are IAM roles, keyed like IAM keys them. */
function propagationKey(p: Principal): string {
  return `${p.kind === 'user' ? 'user' : 'role'}/${p.name}`;
}

function isFleetOp(op: SimulatedOp): op is FleetOp {
  return op in SSM_API;
}

/** IAM stores JSON, not references: callers mutating what they passed or got must not change the account. */
function copy<T>(value: T): T {
  return structuredClone(value);
}
