import { closest, distance } from 'fastest-levenshtein';
import {
  type CommandRun,
  DEFAULT_DELIVERY_TIMEOUT_SECONDS,
  runComment,
  runPermission,
  type RunPermission,
} from '../domain/command-run';
import { toIsoSeconds } from '../domain/grant';
import {
  type ParamProblem,
  parseRunCommand,
  renderCommand,
  resolveParams,
  resolveParamValues,
  type Snippet,
  snippetsFor,
} from '../domain/snippet';
import type { Target } from '../domain/target';
import type { AckDeps, Deps } from './deps';
import { locatedAt } from './places';

export type RunRefusal =
  | { reason: 'unmapped-user'; user: string }
  | { reason: 'unknown-target'; given: string; suggestion?: string; valid: string[] }
  | { reason: 'unknown-snippet'; given: string; target: Target; suggestion?: string; available: Snippet[] }
  | { reason: 'snippet-not-on-target'; snippet: Snippet; target: Target; available: Snippet[] }
  | { reason: 'bad-params'; snippet: Snippet; target: Target; problem: ParamProblem }
  | { reason: 'not-authorized'; target: Target; user: string };

export interface RunHelpEntry {
  target: Target;
  snippets: Snippet[];
  permission: RunPermission;
}

export type RunSnippetResult =
  | { outcome: 'help'; entries: RunHelpEntry[]; mapped: boolean }
  /** Stored and queued. `duplicate`: Slack retried a request already taken; nothing new was stored. */
  | { outcome: 'started'; run: CommandRun; duplicate: boolean; approvalChannel?: string }
  | { outcome: 'refused'; refusal: RunRefusal };

const MAX_ID_ATTEMPTS = 5;

/**
 * `/run <target> <snippet> [key=value …]`: validates everything (mapped user, target, snippet allowed
 * there, parameters, who may run), then makes one conditional write and queues the rest. SSM is never
 * called here: on Lambda the Slack ack waits for this listener (FACTS.md "Slack").
 */
export async function requestRun(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'clock' | 'newId'> & Pick<AckDeps, 'aws' | 'runs'>,
  input: { user: string; channel: string; text: string; requestKey?: string },
): Promise<RunSnippetResult> {
  const { config } = deps;
  const command = parseRunCommand(input.text);
  const refuse = (refusal: RunRefusal): RunSnippetResult => ({ outcome: 'refused', refusal });
  const mapped = Object.hasOwn(config.people, input.user);
  const now = toIsoSeconds(deps.clock.now());

  if (command.kind === 'help') {
    if (command.target === undefined) {
      const targets = Object.values(config.targets).filter(
        (t) => snippetsFor(t.name, config.snippets).length > 0,
      );
      return { outcome: 'help', entries: await helpEntries(deps, input.user, targets, now), mapped };
    }
    const target = findTarget(config.targets, command.target);
    if (!target.ok) return refuse(target.refusal);
    return { outcome: 'help', entries: await helpEntries(deps, input.user, [target.value], now), mapped };
  }

  return submitRun(deps, {
    user: input.user,
    channel: input.channel,
    target: command.target,
    snippet: command.snippet,
    args: command.args,
    ...(input.requestKey ? { requestKey: input.requestKey } : {}),
  });
}

/** A run as the typed command and the run form both give it. */
export interface RunRequest {
  user: string;
  channel: string;
  target: string;
  snippet: string;
  /** Typed `key=value …` text, or the form's values by parameter name. */
  args: string | Readonly<Record<string, string>>;
  requestKey?: string;
}

/**
 * Validates a run (mapped user, target, snippet allowed there, parameters, who may run) and stores
 * it with one conditional write, then queues the rest. `/run` and the run form both end here.
 */
export async function submitRun(
  deps: Pick<AckDeps, 'config' | 'grants' | 'runs' | 'queue' | 'clock' | 'newId' | 'aws'>,
  input: RunRequest,
): Promise<RunSnippetResult> {
  const { config } = deps;
  const command = input;
  const refuse = (refusal: RunRefusal): RunSnippetResult => ({ outcome: 'refused', refusal });
  const mapped = Object.hasOwn(config.people, input.user);
  const now = toIsoSeconds(deps.clock.now());
  if (!mapped) return refuse({ reason: 'unmapped-user', user: input.user });
  const found = findTarget(config.targets, command.target);
  if (!found.ok) return refuse(found.refusal);
  const target = found.value;
  const available = snippetsFor(target.name, config.snippets);
  const snippet = config.snippets[command.snippet];
  if (!snippet) {
    const names = available.map((s) => s.name);
    const suggestion = near(command.snippet, names);
    return refuse({
      reason: 'unknown-snippet',
      given: command.snippet,
      target,
      available,
      ...(suggestion ? { suggestion } : {}),
    });
  }
  if (!snippet.targets.includes(target.name))
    return refuse({ reason: 'snippet-not-on-target', snippet, target, available });

  const params =
    typeof command.args === 'string'
      ? resolveParams(snippet, command.args)
      : resolveParamValues(snippet, command.args);
  if (!params.ok) return refuse({ reason: 'bad-params', snippet, target, problem: params.error });

  const permission = runPermission({
    user: input.user,
    target,
    grants: await deps.grants.listByRequester(input.user),
    now,
  });
  if (!permission.allowed) return refuse({ reason: 'not-authorized', target, user: input.user });

  const approvalChannel = snippet.approval ? { approvalChannel: config.slack.requestsChannel } : {};
  for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
    const id = deps.newId();
    const run: CommandRun = {
      id,
      ...(input.requestKey ? { requestKey: input.requestKey } : {}),
      snippet: snippet.name,
      target: target.name,
      ...locatedAt(target),
      params: params.value,
      command: renderCommand(snippet.run, params.value),
      requester: input.user,
      channel: input.channel,
      status: snippet.approval ? 'awaiting-approval' : 'queued',
      version: 1,
      requestedAt: now,
      needsApproval: snippet.approval,
      approvals: [],
      comment: runComment({ id, requester: input.user, snippet: snippet.name, target: target.name }),
      deliveryTimeoutSeconds: snippet.deliveryTimeout ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS,
      ...(snippet.timeout !== undefined ? { executionTimeoutSeconds: snippet.timeout } : {}),
      ...(snippet.maxConcurrency !== undefined ? { maxConcurrency: snippet.maxConcurrency } : {}),
      ...(snippet.maxErrors !== undefined ? { maxErrors: snippet.maxErrors } : {}),
      simulated: deps.aws.simulated,
    };
    const created = await deps.runs.create(run);
    if (created.ok) {
      await deps.queue.enqueue({ kind: 'start-run', runId: run.id });
      return { outcome: 'started', run, duplicate: false, ...approvalChannel };
    }
    if (created.reason === 'duplicate-request') {
      // The first delivery may have died before it queued the job; start-run is idempotent, so queue it again.
      await deps.queue.enqueue({ kind: 'start-run', runId: created.existing.id });
      return { outcome: 'started', run: created.existing, duplicate: true, ...approvalChannel };
    }
  }
  throw new Error(`could not find a free run id in ${MAX_ID_ATTEMPTS} attempts`);
}

async function helpEntries(
  deps: Pick<Deps, 'config' | 'grants'>,
  user: string,
  targets: readonly Target[],
  now: string,
): Promise<RunHelpEntry[]> {
  const mapped = Object.hasOwn(deps.config.people, user);
  const grants = mapped ? await deps.grants.listByRequester(user) : [];
  return targets.map((target) => ({
    target,
    snippets: snippetsFor(target.name, deps.config.snippets),
    permission: mapped ? runPermission({ user, target, grants, now }) : { allowed: false },
  }));
}

function findTarget(
  targets: Readonly<Record<string, Target>>,
  given: string,
): { ok: true; value: Target } | { ok: false; refusal: RunRefusal } {
  const target = targets[given];
  if (target) return { ok: true, value: target };
  const valid = Object.keys(targets);
  const suggestion = near(given, valid);
  return {
    ok: false,
    refusal: { reason: 'unknown-target', given, valid, ...(suggestion ? { suggestion } : {}) },
  };
}

function near(given: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const best = closest(given, [...names]);
  return distance(given, best) <= Math.max(2, Math.floor(given.length / 3)) ? best : undefined;
}
