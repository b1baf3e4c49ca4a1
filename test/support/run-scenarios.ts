import { SimulatedAccount } from '../../src/adapters/sandbox/simulated-account';
import type { SimulatedRunCommand } from '../../src/adapters/sandbox/simulated-run-command';
import type { Deps } from '../../src/app/deps';
import { handleJob } from '../../src/app/handle-job';
import { requestRun } from '../../src/app/run-snippet';
import type { Config, SandboxNode } from '../../src/config/types';
import type { CommandRun } from '../../src/domain/command-run';
import type { Grant } from '../../src/domain/grant';
import type { Snippet } from '../../src/domain/snippet';
import type { Target } from '../../src/domain/target';
import { principalOfUser } from '../../src/domain/person';
import {
  onePlace,
  ManualClock,
  type MemoryCommandRunStore,
  MemoryGrantStore,
  prodRaspi,
  RecordingChat,
  RecordingQueue,
  type RecordingRunChat,
  runFakes,
  sessionFakes,
  silentLogger,
  testConfig,
} from './fakes';

export const T0 = '2026-11-23T10:00:00Z';
export const PI1 = 'mi-0a1b2c3d4e5f60001';
export const PI2 = 'mi-0a1b2c3d4e5f60002';
export const PI3 = 'mi-0a1b2c3d4e5f60003';
export const WEB1 = 'i-0123456789abcdef0';

export const SERVICE_PATTERN = '^[a-z0-9@._][a-z0-9@._-]{0,63}$';

export const SNIPPETS: Record<string, Snippet> = {
  disk: {
    name: 'disk',
    description: 'Disk usage',
    run: 'df -h /',
    targets: ['prod-raspi'],
    params: {},
    approval: false,
  },
  logs: {
    name: 'logs',
    description: 'Recent log lines of a systemd unit',
    run: 'journalctl -u {{service}} -n {{lines}} --no-pager',
    targets: ['prod-raspi'],
    params: {
      service: { pattern: SERVICE_PATTERN, description: 'systemd unit name' },
      lines: { pattern: '^[0-9]{1,4}$', default: '100' },
    },
    approval: false,
    timeout: 120,
    maxConcurrency: '10',
    maxErrors: '1',
  },
  'restart-agent': {
    name: 'restart-agent',
    description: 'Restart the SSM agent',
    run: 'sudo systemctl restart amazon-ssm-agent',
    targets: ['prod-raspi'],
    params: {},
    approval: true,
    timeout: 60,
  },
  uptime: {
    name: 'uptime',
    description: '',
    run: 'uptime',
    targets: ['staging-web'],
    params: {},
    approval: false,
  },
};

export const stagingWeb: Target = {
  ...prodRaspi,
  name: 'staging-web',
  description: 'Staging web servers',
  tags: { Fleet: 'staging-web' },
  approvers: ['U0CAROL'],
};

/** prod-raspi: 2 online Pis and 1 offline; U0DAVE is a runner. staging-web: one online web server. */
export const FLEET: SandboxNode[] = [
  { id: PI1, name: 'raspi-line-1', tags: { Fleet: 'prod-raspi' }, ping: 'Online' },
  { id: PI2, name: 'raspi-line-2', tags: { Fleet: 'prod-raspi' }, ping: 'Online' },
  { id: PI3, name: 'raspi-line-3', tags: { Fleet: 'prod-raspi' }, ping: 'ConnectionLost' },
  { id: WEB1, name: 'web-1', tags: { Fleet: 'staging-web' }, ping: 'Online' },
];

export function runConfig(opts: { fleet?: SandboxNode[]; snippets?: Record<string, Snippet> } = {}): Config {
  const base = testConfig({
    targets: { 'prod-raspi': { ...prodRaspi, runners: ['U0DAVE'] }, 'staging-web': stagingWeb },
  });
  return {
    ...base,
    snippets: opts.snippets ?? SNIPPETS,
    sandbox: { ...base.sandbox, fleet: opts.fleet ?? FLEET },
  };
}

export interface RunScenario {
  deps: Deps;
  config: Config;
  clock: ManualClock;
  grants: MemoryGrantStore;
  queue: RecordingQueue;
  chat: RecordingChat;
  runs: MemoryCommandRunStore;
  runChat: RecordingRunChat;
  commands: SimulatedRunCommand;
}

/**
 * The Run Command use cases on fakes: memory stores, recording Slack, a queue the test drains, the
 * simulated account as the fleet and the simulated Run Command over the same nodes. Run ids are r1, r2…
 */
export function runScenario(
  opts: { fleet?: SandboxNode[]; snippets?: Record<string, Snippet> } = {},
): RunScenario {
  const config = runConfig(opts);
  const clock = new ManualClock(new Date(T0));
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
  const account = new SimulatedAccount({ ...config.aws, nodes: config.sandbox.fleet, clock });
  const ports = runFakes({ config, clock });
  let n = 0;
  const deps: Deps = {
    config,
    grants,
    queue,
    aws: onePlace({ access: account, fleet: account, commands: ports.commands, simulated: true }),
    chat,
    clock,
    logger: silentLogger,
    newId: () => `r${++n}`,
    ...sessionFakes(grants),
    runs: ports.runs,
    runChat: ports.runChat,
    runPolling: { budgetMs: 60_000, firstDelayMs: 1_000, maxDelayMs: 15_000 },
  };
  return {
    deps,
    config,
    clock,
    grants,
    queue,
    chat,
    runs: ports.runs,
    runChat: ports.runChat,
    commands: ports.commands,
  };
}

/** Runs every queued job through the worker, including the jobs they queue, in order. */
export async function drain(s: RunScenario): Promise<void> {
  for (let ran = 0; s.queue.jobs.length > 0; ran++) {
    if (ran > 200) throw new Error('the queue never emptied');
    const job = s.queue.jobs.shift()!;
    await handleJob(s.deps, job);
  }
}

/** An active grant for `user` on `target`, written straight into the store (the grant flow has its own tests). */
export async function activeGrant(
  s: RunScenario,
  user: string,
  target = 'prod-raspi',
  overrides: Partial<Grant> = {},
): Promise<Grant> {
  const principal = principalOfUser(s.config.people, user) ?? { kind: 'user', name: 'nobody' };
  const grant: Grant = {
    id: `g-${user}-${target}`,
    requester: user,
    principal,
    target,
    durationMinutes: 60,
    reason: 'investigate',
    status: 'active',
    version: 3,
    requestedAt: '2026-11-23T09:30:00Z',
    approvals: [{ by: 'U0CAROL', at: '2026-11-23T09:31:00Z' }],
    startsAt: '2026-11-23T09:31:00Z',
    expiresAt: '2026-11-23T10:31:00Z',
    history: [],
    ...overrides,
  };
  s.grants.items.set(grant.id, grant);
  return grant;
}

/** `/run <text>` by `user` in channel C0WORK; fails the test unless a run was stored. */
export async function run(
  s: RunScenario,
  text: string,
  user = 'U0DAVE',
  requestKey?: string,
): Promise<CommandRun> {
  const result = await requestRun(s.deps, {
    user,
    channel: 'C0WORK',
    text,
    ...(requestKey ? { requestKey } : {}),
  });
  if (result.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(result)}`);
  return result.run;
}
