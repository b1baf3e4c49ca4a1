import { SimulatedAccount, type SimulatedOp } from '../../src/adapters/sandbox/simulated-account';
import { decideOnGrant } from '../../src/app/decide';
import { decideOnExtension, requestExtension } from '../../src/app/extend-grant';
import type { Deps } from '../../src/app/deps';
import { grantPolicyArn } from '../../src/app/grant-policy';
import { handleJob } from '../../src/app/handle-job';
import { requestAccess } from '../../src/app/request-access';
import type { Config } from '../../src/config/types';
import type { Grant } from '../../src/domain/grant';
import type { Principal } from '../../src/domain/principal';
import type { Target } from '../../src/domain/target';
import type { Notice } from '../../src/ports/chat';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  prodRaspi,
  RecordingChat,
  RecordingQueue,
  sessionFakes,
  silentLogger,
  testConfig,
} from './fakes';

/** When every scenario starts; a 1h grant approved then expires at T0 + 1h. */
export const T0 = '2026-11-23T10:00:00Z';
export const RASPI_NODE = 'mi-0a1b2c3d4e5f60001';
export const STAGING_NODE = 'i-0123456789abcdef0';
export const MINUTE = 60_000;

/** The test config's people act through their access roles (src/domain/person.ts). */
export const alice: Principal = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' };
export const bob: Principal = { kind: 'access-role', name: 'keyturn-u0bob', sessionName: 'bob' };
export const dave: Principal = { kind: 'access-role', name: 'keyturn-u0dave', sessionName: 'oncall-dave' };

/** A second fleet in the same account, so tests can tell "this target's nodes" from "other fleets". */
export const stagingWeb: Target = {
  ...prodRaspi,
  name: 'staging-web',
  description: 'Staging web servers',
  tags: { Fleet: 'staging-web' },
};

/** What the grant use cases (request, decide, apply, extend, end, revoke, sweep, reconcile) touch. */
type GrantDeps = Pick<
  Deps,
  | 'config'
  | 'grants'
  | 'queue'
  | 'aws'
  | 'chat'
  | 'clock'
  | 'logger'
  | 'newId'
  | 'readiness'
  // The sweeper reconciles sessions, and revoke and reconcile record anomalies for the digest (issue 5).
  | 'sessions'
  | 'sessionChat'
  | 'anomalies'
  | 'digestData'
>;

export interface Scenario {
  deps: Deps;
  config: Config;
  clock: ManualClock;
  grants: MemoryGrantStore;
  queue: RecordingQueue;
  chat: RecordingChat;
  account: SimulatedAccount;
}

/**
 * Real use cases on fakes: an in-memory store, a recording Slack, a queue the test drains, and the
 * simulated AWS account (IAM evaluated by iam-simulate) as both AccessControl and Fleet. Grant ids
 * are g1, g2, … in request order. `deps` is mutable so a test can wrap `aws` or `grants`.
 */
export function scenario(opts: { targets?: Record<string, Target> } = {}): Scenario {
  const config = testConfig(opts.targets ? { targets: opts.targets } : {});
  const clock = new ManualClock(new Date(T0));
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
  const account = new SimulatedAccount({
    accountId: config.aws.accountId,
    region: config.aws.region,
    nodes: config.sandbox.fleet,
    clock,
  });
  let n = 0;
  const provided: GrantDeps = {
    config,
    grants,
    queue,
    aws: onePlace({ access: account, fleet: account }),
    chat,
    clock,
    logger: silentLogger,
    newId: () => `g${++n}`,
    readiness: { maxWaitMs: 5_000, firstDelayMs: 1_000 },
    ...sessionFakes(grants),
  };
  // Run Command and session tracking (issues 4, 5) are not part of these flows; a grant use case that
  // starts needing one of their ports fails here loudly, on undefined, rather than passing silently.
  const deps = provided as Deps;
  return { deps, config, clock, grants, queue, chat, account };
}

/** Runs every queued job through the worker, including jobs that jobs enqueue, in order. */
export async function drain(s: Scenario): Promise<void> {
  for (let ran = 0; s.queue.jobs.length > 0; ran++) {
    if (ran > 200) throw new Error('the queue never emptied');
    const job = s.queue.jobs.shift()!;
    await handleJob(s.deps, job);
  }
}

/** A request approved by carol, without running its queued jobs: the grant is `approved`. */
export async function approve(s: Scenario, opts: { user?: string; text?: string } = {}): Promise<Grant> {
  const requested = await requestAccess(s.deps, {
    user: opts.user ?? 'U0ALICE',
    text: opts.text ?? 'prod-raspi 1h replace sensor',
  });
  if (requested.outcome !== 'requested') throw new Error(`not requested: ${JSON.stringify(requested)}`);
  const decided = await decideOnGrant(s.deps, {
    grantId: requested.grant.id,
    clicker: 'U0CAROL',
    action: 'approve',
  });
  if (decided.outcome !== 'approved') throw new Error(`not approved: ${JSON.stringify(decided)}`);
  return decided.grant;
}

/** A request approved by carol and applied by the worker, at the clock's time: the grant is `active`. */
export async function activate(s: Scenario, opts: { user?: string; text?: string } = {}): Promise<Grant> {
  const approved = await approve(s, opts);
  await drain(s);
  const grant = await stored(s, approved.id);
  if (grant.status !== 'active') throw new Error(`grant ${grant.id} is ${grant.status}, not active`);
  return grant;
}

/** An extension of an active grant asked for by its requester and approved by carol, applied by the worker. */
export async function extend(s: Scenario, grant: Grant, durationText = '1h'): Promise<Grant> {
  const requested = await requestExtension(s.deps, {
    user: grant.requester,
    grantId: grant.id,
    durationText,
  });
  if (requested.outcome !== 'requested')
    throw new Error(`extension not requested: ${JSON.stringify(requested)}`);
  await drain(s);
  const decided = await decideOnExtension(s.deps, {
    grantId: grant.id,
    clicker: 'U0CAROL',
    action: 'approve',
  });
  if (decided.outcome !== 'approved') throw new Error(`extension not approved: ${JSON.stringify(decided)}`);
  await drain(s);
  const extended = await stored(s, grant.id);
  if (extended.expiresAt === grant.expiresAt) throw new Error(`grant ${grant.id} was not extended`);
  return extended;
}

export async function stored(s: Scenario, id: string): Promise<Grant> {
  const grant = await s.grants.get(id);
  if (!grant) throw new Error(`grant ${id} is gone`);
  return grant;
}

export function policyArnOf(s: Scenario, grantId: string): string {
  return grantPolicyArn(s.config.aws, grantId);
}

/** Calls Keyturn made to `op` about this policy ARN (IAM detach/delete/version calls name it). */
export function callsAbout(s: Scenario, op: SimulatedOp, policyArn: string): number {
  return s.account.calls.filter((c) => c.op === op && c.args.includes(policyArn)).length;
}

export function keyturnPolicies(s: Scenario): string[] {
  return s.account.policyArns().filter((arn) => arn.includes(':policy/keyturn/'));
}

/** DMs of one kind, optionally about one grant. */
export function notices<K extends Notice['kind']>(
  s: Scenario,
  kind: K,
  grantId?: string,
): Extract<Notice, { kind: K }>[] {
  return s.chat.notices
    .map((n) => n.notice)
    .filter((n): n is Extract<Notice, { kind: K }> => n.kind === kind)
    .filter((n) => grantId === undefined || n.grant.id === grantId);
}

/** Moves the clock to `iso` (whole seconds, as grants store times). */
export function at(s: Scenario, iso: string): void {
  s.clock.set(iso);
}
