import { SimulatedRunCommand } from '../../src/adapters/sandbox/simulated-run-command';
import type { Config } from '../../src/config/types';
import type { CommandRun, NodeResult } from '../../src/domain/command-run';
import type { AuditLine } from '../../src/domain/audit-line';
import { type Anomaly, anomalyId } from '../../src/domain/anomaly';
import type { DigestView, LocalDay } from '../../src/domain/digest';
import { type Place, placeKey, samePlace } from '../../src/domain/place';
import { type Session, sessionPlace } from '../../src/domain/session';
import { type Grant, type GrantStatus, isOpen, type MessageRef } from '../../src/domain/grant';
import type { Target } from '../../src/domain/target';
import type {
  AuditEvent,
  Chat,
  ExtensionCardView,
  HomeView,
  Notice,
  RequestCardView,
} from '../../src/ports/chat';
import type { AccessControl } from '../../src/ports/access-control';
import type { AnomalyLog } from '../../src/ports/anomaly-log';
import type { AwsPlaces } from '../../src/ports/aws-places';
import type { CommandRunner } from '../../src/ports/command-runner';
import type { Clock } from '../../src/ports/clock';
import type { DigestData } from '../../src/ports/digest-data';
import type { CreateGrantOutcome, GrantStore } from '../../src/ports/grant-store';
import type { Logger } from '../../src/ports/logger';
import type { CommandRunStore, CreateRunOutcome } from '../../src/ports/command-run-store';
import type {
  RunApprovalView,
  RunChat,
  RunGroupsView,
  RunMessageView,
  RunResultsView,
} from '../../src/ports/run-chat';
import type {
  SessionChat,
  SessionStartView,
  SessionSummaryView,
  UnmatchedSessionView,
} from '../../src/ports/session-chat';
import type { Fleet } from '../../src/ports/fleet';
import type { SessionStore } from '../../src/ports/session-store';
import type { Job, WorkQueue } from '../../src/ports/work-queue';
import { inPages } from './pages';

const clone = <T>(v: T): T => structuredClone(v);

/** Same contract as the DynamoDB store (conditional writes, one open grant per requester+target), in memory. */
export class MemoryGrantStore implements GrantStore {
  readonly items = new Map<string, Grant>();
  readonly effects = new Set<string>();
  readonly requests = new Map<string, string>();

  async create(grant: Grant): Promise<CreateGrantOutcome> {
    await tick();
    const holder = grant.requestKey === undefined ? undefined : this.requests.get(grant.requestKey);
    if (holder !== undefined) {
      const first = this.items.get(holder);
      return { ok: false, reason: 'duplicate-request', ...(first ? { existing: clone(first) } : {}) };
    }
    if (grant.requestKey !== undefined) this.requests.set(grant.requestKey, grant.id);
    const existing = [...this.items.values()].find(
      (g) => g.requester === grant.requester && g.target === grant.target && isOpen(g.status),
    );
    if (existing) return { ok: false, reason: 'open-grant-exists', existing: clone(existing) };
    if (this.items.has(grant.id)) return { ok: false, reason: 'id-taken' };
    this.items.set(grant.id, clone(grant));
    return { ok: true };
  }

  async claimRequest(requestKey: string, grantId: string): Promise<boolean> {
    await tick();
    if (this.requests.has(requestKey)) return false;
    this.requests.set(requestKey, grantId);
    return true;
  }

  async get(id: string): Promise<Grant | undefined> {
    await tick();
    const g = this.items.get(id);
    return g && clone(g);
  }

  async save(next: Grant, expectedVersion: number): Promise<'saved' | 'stale'> {
    await tick();
    if (this.items.get(next.id)?.version !== expectedVersion) return 'stale';
    this.items.set(next.id, clone(next));
    return 'saved';
  }

  async listByStatus(status: GrantStatus, opts: { dueBy?: string } = {}): Promise<Grant[]> {
    await tick();
    return [...this.items.values()]
      .filter((g) => g.status === status)
      .filter((g) => opts.dueBy === undefined || dueTime(g) <= opts.dueBy)
      .sort((a, b) => dueTime(a).localeCompare(dueTime(b)))
      .map(clone);
  }

  async listByRequester(requester: string): Promise<Grant[]> {
    await tick();
    return [...this.items.values()]
      .filter((g) => g.requester === requester)
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))
      .map(clone);
  }

  async claimEffect(grantId: string, effect: string): Promise<boolean> {
    await tick();
    const key = `${grantId}/${effect}`;
    if (this.effects.has(key)) return false;
    this.effects.add(key);
    return true;
  }
}

/** The byStatus index's sort key, as the DynamoDB store computes it. */
const dueTime = (g: Grant): string => g.ending?.at ?? g.expiresAt ?? g.requestedAt;

/** Yields to the event loop so concurrent callers interleave as they would against a real store. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RecordingChat implements Chat {
  readonly cards: { ref: MessageRef; channel: string; view: RequestCardView }[] = [];
  readonly cardUpdates: { ref: MessageRef; view: RequestCardView }[] = [];
  readonly notices: { user: string; notice: Notice }[] = [];
  readonly extensionCards: { ref: MessageRef; channel: string; view: ExtensionCardView }[] = [];
  readonly extensionCardUpdates: { ref: MessageRef; view: ExtensionCardView }[] = [];
  readonly audits: { channel: string; event: AuditEvent }[] = [];
  readonly auditLines: { channel: string; line: AuditLine }[] = [];
  readonly homes: { user: string; view: HomeView }[] = [];
  groupLookups = 0;
  private seq = 0;

  constructor(private readonly groups: Record<string, string[]> = {}) {}

  async postRequestCard(channel: string, view: RequestCardView): Promise<MessageRef> {
    const ref = { channel, ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
    this.cards.push({ ref, channel, view: clone(view) });
    return ref;
  }
  async updateRequestCard(ref: MessageRef, view: RequestCardView): Promise<void> {
    this.cardUpdates.push({ ref, view: clone(view) });
  }
  async postExtensionCard(channel: string, view: ExtensionCardView): Promise<MessageRef> {
    const ref = { channel, ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
    this.extensionCards.push({ ref, channel, view: clone(view) });
    return ref;
  }
  async updateExtensionCard(ref: MessageRef, view: ExtensionCardView): Promise<void> {
    this.extensionCardUpdates.push({ ref, view: clone(view) });
  }
  async postAudit(channel: string, event: AuditEvent): Promise<void> {
    this.audits.push({ channel, event: clone(event) });
  }
  async publishHome(user: string, view: HomeView): Promise<void> {
    this.homes.push({ user, view: clone(view) });
  }
  async postAuditLine(channel: string, line: AuditLine): Promise<void> {
    this.auditLines.push({ channel, line: clone(line) });
  }
  async notify(user: string, notice: Notice): Promise<void> {
    this.notices.push({ user, notice: clone(notice) });
  }
  async userGroupMembers(groupId: string): Promise<readonly string[]> {
    this.groupLookups++;
    return this.groups[groupId] ?? [];
  }
}

export class RecordingQueue implements WorkQueue {
  readonly jobs: Job[] = [];
  async enqueue(job: Job): Promise<void> {
    this.jobs.push(job);
  }
}

/** A clock tests move by hand; `sleep` advances it instantly so backoff loops finish at once. */
export class ManualClock implements Clock {
  slept: number[] = [];
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.advance(ms);
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export const prodRaspi: Target = {
  name: 'prod-raspi',
  description: 'Production Raspberry Pi fleet',
  account: '123456789012',
  region: 'ap-northeast-1',
  tags: { Fleet: 'prod-raspi' },
  defaultDurationMinutes: 60,
  maxDurationMinutes: 240,
  approvers: ['U0CAROL', 'S0SREGROUP'],
  approvals: 1,
  selfApproval: false,
  documents: ['shell', 'ssh'],
  warnBeforeMinutes: 10,
  approvalTimeoutMinutes: 60,
};

export function testConfig(overrides: { targets?: Record<string, Target> } = {}): Config {
  return {
    aws: {
      accountId: '123456789012',
      region: 'ap-northeast-1',
      partition: 'aws',
      accounts: { '123456789012': { accountId: '123456789012', regions: ['ap-northeast-1'] } },
    },
    slack: { requestsChannel: 'C0APPROVALS', auditChannel: 'C0AUDIT', auditEvents: 'all' },
    people: {
      U0ALICE: {
        user: 'U0ALICE',
        identity: { kind: 'iam-user', name: 'alice', path: '/' },
        attach: 'access-role',
      },
      U0BOB: { user: 'U0BOB', identity: { kind: 'iam-user', name: 'bob', path: '/' }, attach: 'access-role' },
      U0CAROL: {
        user: 'U0CAROL',
        identity: { kind: 'iam-user', name: 'carol', path: '/' },
        attach: 'access-role',
      },
      U0DAVE: { user: 'U0DAVE', identity: { kind: 'iam-role', name: 'oncall-dave' }, attach: 'access-role' },
    },
    targets: overrides.targets ?? { 'prod-raspi': prodRaspi },
    snippets: {},
    digest: { at: '09:00', timezone: 'UTC' },
    sandbox: {
      fleet: [
        { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', tags: { Fleet: 'prod-raspi' }, ping: 'Online' },
        {
          id: 'mi-0a1b2c3d4e5f60002',
          name: 'raspi-line-2',
          tags: { Fleet: 'prod-raspi' },
          ping: 'ConnectionLost',
        },
        { id: 'i-0123456789abcdef0', name: 'web-1', tags: { Fleet: 'staging-web' }, ping: 'Online' },
      ],
      userGroups: { S0SREGROUP: ['U0DAVE'] },
    },
  };
}

/** Same contract as the DynamoDB session store (conditional writes; an ended session never reopens), in memory. */
export class MemorySessionStore implements SessionStore {
  readonly items = new Map<string, Session>();
  /** History cursors by place (`<account>/<region>`). */
  readonly cursors = new Map<string, string>();
  writes = 0;

  /** `home`: Keyturn's own account and region, where sessions recorded without a place are (the test config's). */
  constructor(private readonly home: Place = { accountId: '123456789012', region: 'ap-northeast-1' }) {}

  async get(id: string): Promise<Session | undefined> {
    await tick();
    const s = this.items.get(id);
    return s && clone(s);
  }

  async save(next: Session, expectedVersion: number): Promise<'saved' | 'stale'> {
    await tick();
    const current = this.items.get(next.id);
    if ((current?.version ?? 0) !== expectedVersion) return 'stale';
    // An end is final, but for a stub no one owns (another place's TerminateSession made it).
    if (current?.status === 'ended' && next.status === 'active' && current.owner !== undefined)
      return 'stale';
    this.items.set(next.id, clone(next));
    this.writes++;
    return 'saved';
  }

  async listWatched(place: Place): Promise<Session[]> {
    await tick();
    return [...this.items.values()]
      .filter((s) => s.settledAt === undefined && samePlace(sessionPlace(this.home, s), place))
      .sort((a, b) => (a.startedAt ?? a.firstSeenAt).localeCompare(b.startedAt ?? b.firstSeenAt))
      .map(clone);
  }

  async historyCursor(place: Place): Promise<string | undefined> {
    return this.cursors.get(placeKey(place));
  }

  async setHistoryCursor(place: Place, at: string): Promise<void> {
    this.cursors.set(placeKey(place), at);
  }
}

export class RecordingSessionChat implements SessionChat {
  readonly started: { thread: MessageRef; view: SessionStartView }[] = [];
  readonly summaries: { thread: MessageRef; view: SessionSummaryView }[] = [];
  readonly unmatched: { channel: string; view: UnmatchedSessionView }[] = [];
  readonly digests: { channel: string; view: DigestView }[] = [];

  async postSessionStarted(thread: MessageRef, view: SessionStartView): Promise<void> {
    this.started.push({ thread, view: clone(view) });
  }
  async postSessionSummary(thread: MessageRef, view: SessionSummaryView): Promise<void> {
    this.summaries.push({ thread, view: clone(view) });
  }
  async postUnmatchedSession(channel: string, view: UnmatchedSessionView): Promise<void> {
    this.unmatched.push({ channel, view: clone(view) });
  }
  async postDigest(channel: string, view: DigestView): Promise<void> {
    this.digests.push({ channel, view: clone(view) });
  }
}

export class MemoryAnomalyLog implements AnomalyLog {
  readonly items = new Map<string, Anomaly>();
  async record(anomaly: Anomaly): Promise<void> {
    this.items.set(anomalyId(anomaly), clone(anomaly));
  }
}

/** The digest's reads over the memory stores, by the same ranges the DynamoDB reader queries. */
export class MemoryDigestData implements DigestData {
  readonly claims = new Set<string>();

  constructor(
    private readonly stores: {
      grants: MemoryGrantStore;
      sessions: MemorySessionStore;
      anomalies: MemoryAnomalyLog;
    },
  ) {}

  /** Pages of this many items, as the DynamoDB reader hands them over: small, so every fold crosses pages. */
  pageSize = 2;

  async *grantsRequested(from: string, to: string) {
    const grants = [...this.stores.grants.items.values()].filter((g) => within(from, to, g.requestedAt));
    yield* inPages(grants.map(clone), this.pageSize);
  }
  async *sessionsStarted(from: string, to: string) {
    const sessions = [...this.stores.sessions.items.values()].filter((s) => within(from, to, s.startedAt));
    yield* inPages(sessions.map(clone), this.pageSize);
  }
  async anomalies(from: string, to: string) {
    return [...this.stores.anomalies.items.values()].filter((a) => within(from, to, a.at)).map(clone);
  }
  async claimPost(day: LocalDay): Promise<boolean> {
    const key = `${day.date}#${day.timeZone}`;
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }
}

function within(from: string, to: string, iso: string | undefined): boolean {
  if (iso === undefined) return false;
  const t = Date.parse(iso);
  return Date.parse(from) <= t && t < Date.parse(to);
}

/** Session tracking and digest ports (issue 5) on memory fakes, sharing `grants` with the caller. */
export function sessionFakes(grants: MemoryGrantStore) {
  const sessions = new MemorySessionStore();
  const anomalies = new MemoryAnomalyLog();
  return {
    sessions,
    sessionChat: new RecordingSessionChat(),
    anomalies,
    digestData: new MemoryDigestData({ grants, sessions, anomalies }),
  };
}

/** Same contract as the DynamoDB run store (conditional writes, one run per request key), in memory. */
export class MemoryCommandRunStore implements CommandRunStore {
  readonly items = new Map<string, CommandRun>();
  readonly nodes = new Map<string, Map<string, NodeResult>>();
  readonly effects = new Set<string>();
  private readonly requests = new Map<string, string>();
  private readonly commandIds = new Map<string, string>();

  async create(run: CommandRun): Promise<CreateRunOutcome> {
    await tick();
    if (this.items.has(run.id)) return { ok: false, reason: 'id-taken' };
    const holder = run.requestKey === undefined ? undefined : this.requests.get(run.requestKey);
    const existing = holder === undefined ? undefined : this.items.get(holder);
    if (existing) return { ok: false, reason: 'duplicate-request', existing: clone(existing) };
    this.items.set(run.id, clone(run));
    if (run.requestKey !== undefined) this.requests.set(run.requestKey, run.id);
    return { ok: true };
  }

  async get(id: string): Promise<CommandRun | undefined> {
    await tick();
    const run = this.items.get(id);
    return run && clone(run);
  }

  async save(next: CommandRun, expectedVersion: number): Promise<'saved' | 'stale'> {
    await tick();
    if (this.items.get(next.id)?.version !== expectedVersion) return 'stale';
    this.items.set(next.id, clone(next));
    if (next.commandId !== undefined) this.commandIds.set(next.commandId, next.id);
    return 'saved';
  }

  async findByCommandId(commandId: string): Promise<CommandRun | undefined> {
    const id = this.commandIds.get(commandId);
    return id === undefined ? undefined : this.get(id);
  }

  async recordNode(runId: string, result: NodeResult): Promise<boolean> {
    await tick();
    const nodes = this.nodes.get(runId) ?? new Map<string, NodeResult>();
    this.nodes.set(runId, nodes);
    if (nodes.has(result.nodeId)) return false;
    const { postedAt: _ignored, ...stored } = result;
    nodes.set(result.nodeId, clone(stored));
    return true;
  }

  async nodeResults(runId: string): Promise<NodeResult[]> {
    await tick();
    return [...(this.nodes.get(runId)?.values() ?? [])]
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
      .map(clone);
  }

  async claimNodePost(runId: string, nodeId: string, at: string): Promise<boolean> {
    await tick();
    const result = this.nodes.get(runId)?.get(nodeId);
    if (!result || result.postedAt !== undefined) return false;
    result.postedAt = at;
    return true;
  }

  async claimEffect(runId: string, effect: string): Promise<boolean> {
    await tick();
    const key = `${runId}/${effect}`;
    if (this.effects.has(key)) return false;
    this.effects.add(key);
    return true;
  }

  async listByDay(day: string): Promise<CommandRun[]> {
    await tick();
    return [...this.items.values()]
      .filter((r) => r.requestedAt.slice(0, 10) === day)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))
      .map(clone);
  }
}

/** Every run message, thread reply and approval card, as the Slack adapter would have sent them. */
export class RecordingRunChat implements RunChat {
  readonly messages: { ref: MessageRef; channel: string; view: RunMessageView }[] = [];
  readonly messageUpdates: { ref: MessageRef; view: RunMessageView }[] = [];
  readonly replies: { thread: MessageRef; view: RunResultsView }[] = [];
  /** Grouped results of finished runs on many nodes, one entry per call (the adapter makes them a few replies). */
  readonly groupReplies: { thread: MessageRef; view: RunGroupsView }[] = [];
  readonly cards: { ref: MessageRef; channel: string; view: RunApprovalView }[] = [];
  readonly cardUpdates: { ref: MessageRef; view: RunApprovalView }[] = [];
  private seq = 0;

  async postRunMessage(channel: string, view: RunMessageView): Promise<MessageRef> {
    const ref = { channel, ts: `1700000100.${String(++this.seq).padStart(6, '0')}` };
    this.messages.push({ ref, channel, view: clone(view) });
    return ref;
  }
  async updateRunMessage(ref: MessageRef, view: RunMessageView): Promise<void> {
    this.messageUpdates.push({ ref, view: clone(view) });
  }
  async postResults(thread: MessageRef, view: RunResultsView): Promise<void> {
    this.replies.push({ thread, view: clone(view) });
  }
  async postResultGroups(thread: MessageRef, view: RunGroupsView): Promise<void> {
    this.groupReplies.push({ thread, view: clone(view) });
  }
  async postApprovalCard(channel: string, view: RunApprovalView): Promise<MessageRef> {
    const ref = { channel, ts: `1700000200.${String(++this.seq).padStart(6, '0')}` };
    this.cards.push({ ref, channel, view: clone(view) });
    return ref;
  }
  async updateApprovalCard(ref: MessageRef, view: RunApprovalView): Promise<void> {
    this.cardUpdates.push({ ref, view: clone(view) });
  }

  /** The run's message as it reads now: the last update, else the post. */
  latestMessage(): RunMessageView | undefined {
    return this.messageUpdates.at(-1)?.view ?? this.messages.at(-1)?.view;
  }
  /** Every node result posted in threads, in order; a group counts as its nodes. */
  postedResults(): NodeResult[] {
    return [
      ...this.replies.flatMap((r) => [...r.view.results]),
      ...this.groupReplies.flatMap((r) =>
        r.view.groups.flatMap((g) =>
          g.nodes.map(({ nodeId, nodeName }) => {
            const { nodeName: _, ...shared } = g.result;
            return { ...shared, nodeId, ...(nodeName ? { nodeName } : {}) };
          }),
        ),
      ),
    ];
  }
}

/** Run Command ports (issue 4) on fakes: the sandbox's simulated Run Command over the test fleet. */
export function runFakes(opts: { config: Config; clock: Clock }) {
  return {
    commands: new SimulatedRunCommand({ nodes: opts.config.sandbox.fleet, clock: opts.clock }),
    runs: new MemoryCommandRunStore(),
    runChat: new RecordingRunChat(),
  };
}

/**
 * Single-account tests: the same fakes answer for every account and region. A port a test did not
 * give fails loudly when used.
 */
export function onePlace(ports: {
  access?: AccessControl;
  fleet?: Fleet;
  commands?: CommandRunner;
  simulated?: boolean;
}): AwsPlaces {
  const missing = (what: string): never => {
    throw new Error(`this test gave no ${what} port`);
  };
  return {
    simulated: ports.simulated ?? false,
    access: () => ports.access ?? missing('IAM'),
    fleet: () => ports.fleet ?? missing('fleet'),
    commands: () => ports.commands ?? missing('Run Command'),
  };
}
