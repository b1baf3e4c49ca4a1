import type { Config, SandboxNode } from '../../config/types';
import { renderBoundary } from '../../domain/boundary';
import type { PolicyDocument, PolicyStatement } from '../../domain/policy-document';
import { describePlace, type Place, placeKey, samePlace } from '../../domain/place';
import type { Principal } from '../../domain/principal';
import type { AwsPlaces } from '../../ports/aws-places';
import type { Clock } from '../../ports/clock';
import type { Fleet, SessionInfo } from '../../ports/fleet';
import {
  type Decision,
  SimulatedAccount,
  type SimulatedAccountState,
  type StartSessionOutcome,
} from './simulated-account';
import { SimulatedRunCommand, simulatedCommandId } from './simulated-run-command';

/** What the organisation saves between sandbox runs: each account's IAM and Session Manager state, by account id. */
export type SimulatedOrganisationState = Record<string, SimulatedAccountState>;

export interface SimulatedOrganisationOptions {
  config: Pick<Config, 'aws' | 'people' | 'targets' | 'sandbox'>;
  clock: Clock;
  /** Managed policies one user or role may hold, in every account; IAM's default is 10. */
  attachedPoliciesQuota?: number;
}

/** An open session and where it is, as the sandbox page lists them. */
export type PlacedSession = SessionInfo & Place;

/**
 * The sandbox's simulated AWS organisation: one SimulatedAccount per account Keyturn serves (the home
 * account and every `aws.accounts` entry), each with its own IAM (policies, attachments, Run As tags),
 * its own access roles' boundary and trust, and its own Session Manager; Run Command per account and
 * region. A sandbox node is in one place (its `account` and `region`, Keyturn's own by default), so a
 * grant in one account lets its person start sessions on that account's nodes only, as in AWS.
 */
export class SimulatedOrganisation implements AwsPlaces {
  readonly simulated = true;
  /** Keyturn's own account: where its people's identities are. */
  readonly home: SimulatedAccount;
  private readonly accounts = new Map<string, SimulatedAccount>();
  private readonly runners = new Map<string, SimulatedRunCommand>();
  private readonly nodes: readonly (SandboxNode & Place)[];
  private readonly config: SimulatedOrganisationOptions['config'];
  private readonly clock: Clock;
  private commandCount = 0;

  constructor(opts: SimulatedOrganisationOptions) {
    const { config, clock } = opts;
    this.config = config;
    this.clock = clock;
    this.nodes = config.sandbox.fleet.map((n) => ({ ...n, ...this.placeOf(n) }));
    for (const served of Object.values(config.aws.accounts)) {
      const isHome = served.accountId === config.aws.accountId;
      // A node naming no region is in Keyturn's own; a member account's first region stands in for it.
      const region = isHome ? config.aws.region : (served.regions[0] ?? config.aws.region);
      const boundary = this.boundaryOf(served.accountId);
      this.accounts.set(
        served.accountId,
        new SimulatedAccount({
          accountId: served.accountId,
          region,
          partition: config.aws.partition,
          homeAccountId: config.aws.accountId,
          ...(boundary && { boundary }),
          people: Object.values(config.people),
          nodes: this.nodes.filter((n) => n.accountId === served.accountId),
          clock,
          ...(opts.attachedPoliciesQuota !== undefined && {
            attachedPoliciesQuota: opts.attachedPoliciesQuota,
          }),
        }),
      );
    }
    this.home = this.account(config.aws.accountId);
  }

  // ---- AwsPlaces ---------------------------------------------------------------------------------

  access(accountId: string): SimulatedAccount {
    return this.account(accountId);
  }

  fleet(place: Place): Fleet {
    return this.account(place.accountId).fleetIn(place.region);
  }

  /** Run Command in one account and region: it reaches that place's nodes only. */
  commands(place: Place): SimulatedRunCommand {
    this.account(place.accountId);
    const key = placeKey(place);
    let runner = this.runners.get(key);
    if (!runner) {
      runner = new SimulatedRunCommand({
        nodes: this.nodes.filter((n) => samePlace(n, place)),
        clock: this.clock,
        nextId: () => simulatedCommandId(++this.commandCount),
      });
      this.runners.set(key, runner);
    }
    return runner;
  }

  // ---- the sandbox page's view ---------------------------------------------------------------------

  /** The simulated account with this id; throws for an account the config does not declare. */
  account(accountId: string): SimulatedAccount {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`account ${accountId} is not declared under aws in the config`);
    return account;
  }

  /** Where a node of the sandbox fleet is, or undefined for an unknown node. */
  placeOfNode(nodeId: string): Place | undefined {
    const node = this.nodes.find((n) => n.id === nodeId);
    return node && { accountId: node.accountId, region: node.region };
  }

  /** `factory (444455556666), eu-central-1`. */
  describe(place: Place): string {
    return describePlace(this.config.aws.accounts, place);
  }

  /** The person runs `aws ssm start-session` in the node's account and region (their profile for that account). */
  async startSession(principal: Principal, nodeId: string, document?: string): Promise<StartSessionOutcome> {
    const place = this.placeOfNode(nodeId);
    if (!place) return { ok: false, reason: 'unknown-node' };
    return this.account(place.accountId).startSession(principal, nodeId, document);
  }

  /** What IAM in the node's account answers the principal for a session on it at `at`. */
  async evaluate(principal: Principal, nodeId: string, at?: string): Promise<Decision> {
    const place = this.placeOfNode(nodeId);
    if (!place) return 'denied';
    return this.account(place.accountId).evaluate(principal, nodeId, at);
  }

  /** The principal's open sessions in every account, each with where it is. */
  openSessionsOf(principal: Principal): PlacedSession[] {
    return [...this.accounts.values()].flatMap((account) =>
      account.openSessionsOf(principal).map((s) => ({
        ...s,
        ...(this.placeOfNode(s.target) ?? { accountId: '', region: '' }),
      })),
    );
  }

  /** The user types `exit` in a session, wherever it is; false when no account has it open. */
  exitSession(sessionId: string): boolean {
    return [...this.accounts.values()].some((account) => account.exitSession(sessionId));
  }

  /** Every account's state, by account id. */
  snapshot(): SimulatedOrganisationState {
    return Object.fromEntries([...this.accounts].map(([id, account]) => [id, account.snapshot()]));
  }

  /** Each account takes its saved state (none: it starts empty); with no state at all, everything is forgotten. */
  restore(state: SimulatedOrganisationState = {}): void {
    for (const [id, account] of this.accounts)
      account.restore(Object.hasOwn(state, id) ? state[id] : undefined);
  }

  // ---- internals -----------------------------------------------------------------------------------

  private placeOf(node: SandboxNode): Place {
    return {
      accountId: node.account ?? this.config.aws.accountId,
      region: node.region ?? this.config.aws.region,
    };
  }

  /**
   * The access roles' permissions boundary in one account, as the deploy renders it there for the
   * targets in that account, each in its own region; none when the account has no target (no grant can
   * be made there). Rendered region by region and put together, so that a boundary rendered for one
   * region (aws.region) still covers an account's every region.
   */
  private boundaryOf(accountId: string): PolicyDocument | undefined {
    const targets = Object.values(this.config.targets).filter((t) => t.account === accountId);
    const statements: PolicyStatement[] = [];
    const sids = new Set<string>();
    for (const region of [...new Set(targets.map((t) => t.region))].sort()) {
      const rendered = renderBoundary(
        { partition: this.config.aws.partition, accountId, region },
        targets.filter((t) => t.region === region),
      );
      if (!rendered.ok) return undefined;
      for (const statement of rendered.value.Statement) {
        if (statements.some((s) => JSON.stringify(s) === JSON.stringify(statement))) continue;
        const sid = statement.Sid;
        // Sids name one statement each: a region's own statement keeps its Sid with the region after it.
        const unique = sid && sids.has(sid) ? `${sid}${region.replace(/-/g, '')}` : sid;
        if (unique) sids.add(unique);
        statements.push(unique ? { ...statement, Sid: unique } : statement);
      }
    }
    return statements.length === 0 ? undefined : { Version: '2012-10-17', Statement: statements };
  }
}
