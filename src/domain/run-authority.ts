import { type CommandRun, DEFAULT_DELIVERY_TIMEOUT_SECONDS } from './command-run';
import type { Grant } from './grant';
import {
  type ApproverGroups,
  type AuthorityRefusal,
  checkApprovals,
  describeAuthorityRefusal,
} from './grant-authority';
import type { Person } from './person';
import { checkValue, renderCommand, type Snippet } from './snippet';
import { type Target, targetPlace } from './target';
import { type Place, recordPlace, samePlace } from './place';

/*
 * The Run Command counterpart of grant-authority.ts (issue 11, point 5): before SendCommand, the
 * worker derives the run again from the configuration, so a run written straight into the table
 * (another command line, a snippet the target does not allow, approvals nobody gave) is never sent.
 */

export type RunAuthorityRefusal =
  | { reason: 'unmapped-requester'; requester: string }
  | { reason: 'unknown-target'; target: string }
  | { reason: 'target-moved'; target: string; recorded: Place; now: Place }
  | { reason: 'not-a-runner'; requester: string; target: string; at: string }
  | { reason: 'unknown-snippet'; snippet: string }
  | { reason: 'snippet-not-on-target'; snippet: string; target: string }
  | { reason: 'bad-params'; problem: string }
  | { reason: 'command-mismatch'; stored: string; rendered: string }
  | { reason: 'limits-mismatch'; limit: RunLimit; stored: string; configured: string }
  | { reason: 'approval-skipped'; snippet: string }
  | Extract<AuthorityRefusal, { reason: 'self-approval' | 'too-few-approvals' | 'approvers-unresolved' }>;

export type RunAuthorityDecision = { outcome: 'allow' } | ({ outcome: 'refuse' } & RunAuthorityRefusal);

/** The run's SendCommand limits, stored with it when it is asked for (run-snippet.ts). */
const RUN_LIMITS = [
  'deliveryTimeoutSeconds',
  'executionTimeoutSeconds',
  'maxConcurrency',
  'maxErrors',
] as const;
type RunLimit = (typeof RUN_LIMITS)[number];

const refuse = (refusal: RunAuthorityRefusal): RunAuthorityDecision => ({ outcome: 'refuse', ...refusal });

/**
 * May the worker send this run? The requester is mapped, the snippet exists and allows the target,
 * the stored parameters are exactly the snippet's and each still passes its rules, the stored command
 * is what the snippet renders from them, and a snippet that needs approval has enough distinct
 * approvals by current approvers of the target (not the requester unless the target allows it).
 */
export function checkRunAuthority(
  run: CommandRun,
  ctx: {
    people: Readonly<Record<string, Person>>;
    targets: Readonly<Record<string, Target>>;
    snippets: Readonly<Record<string, Snippet>>;
    groups: ApproverGroups;
    /** The requester's grants, to see whether they could run on the target when they asked. */
    grants: readonly Grant[];
    /** Keyturn's own account and region: where a run recorded before there were others is sent. */
    home: Place;
  },
): RunAuthorityDecision {
  if (!Object.hasOwn(ctx.people, run.requester))
    return refuse({ reason: 'unmapped-requester', requester: run.requester });
  const target = Object.hasOwn(ctx.targets, run.target) ? ctx.targets[run.target] : undefined;
  if (!target) return refuse({ reason: 'unknown-target', target: run.target });
  const recorded = recordPlace(ctx.home, run);
  if (!samePlace(recorded, targetPlace(target)))
    return refuse({ reason: 'target-moved', target: target.name, recorded, now: targetPlace(target) });
  if (!couldRunAt(run.requester, target, ctx.grants, run.requestedAt))
    return refuse({
      reason: 'not-a-runner',
      requester: run.requester,
      target: target.name,
      at: run.requestedAt,
    });
  const snippet = Object.hasOwn(ctx.snippets, run.snippet) ? ctx.snippets[run.snippet] : undefined;
  if (!snippet) return refuse({ reason: 'unknown-snippet', snippet: run.snippet });
  if (!snippet.targets.includes(target.name))
    return refuse({ reason: 'snippet-not-on-target', snippet: snippet.name, target: target.name });

  const declared = Object.keys(snippet.params);
  const stored = Object.keys(run.params);
  const extra = stored.find((name) => !declared.includes(name));
  if (extra !== undefined)
    return refuse({ reason: 'bad-params', problem: `${extra} is not a parameter of ${snippet.name}` });
  for (const [name, param] of Object.entries(snippet.params)) {
    const value = run.params[name];
    if (value === undefined) return refuse({ reason: 'bad-params', problem: `${name} has no value` });
    const problem = checkValue(name, param.pattern, value);
    if (problem)
      return refuse({ reason: 'bad-params', problem: `${name} fails its rules (${problem.reason})` });
  }
  const rendered = renderCommand(snippet.run, run.params);
  if (rendered !== run.command) return refuse({ reason: 'command-mismatch', stored: run.command, rendered });
  // SendCommand takes these from the record: they must be the snippet's, or a run written into the
  // table could reach every node at once, ignore errors, or run for 48 hours.
  const configured: Record<RunLimit, string | number | undefined> = {
    deliveryTimeoutSeconds: snippet.deliveryTimeout ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS,
    executionTimeoutSeconds: snippet.timeout,
    maxConcurrency: snippet.maxConcurrency,
    maxErrors: snippet.maxErrors,
  };
  for (const limit of RUN_LIMITS) {
    if (run[limit] !== configured[limit])
      return refuse({
        reason: 'limits-mismatch',
        limit,
        stored: String(run[limit] ?? '(none)'),
        configured: String(configured[limit] ?? '(none)'),
      });
  }

  if (!snippet.approval) return { outcome: 'allow' };
  if (!run.needsApproval) return refuse({ reason: 'approval-skipped', snippet: snippet.name });
  const approvals = checkApprovals({
    approvers: run.approvals.map((a) => a.by),
    requester: run.requester,
    target,
    groups: ctx.groups,
  });
  if (approvals.outcome === 'allow') return approvals;
  const { outcome: _refuse, ...refusal } = approvals;
  return refuse(refusal as RunAuthorityRefusal);
}

/**
 * Who may run (runPermission in command-run.ts), judged at the time of the request rather than now:
 * a run approved later, after the requester's grant ended, was still asked for by someone who could.
 * A grant counts if Keyturn gave access under it (active, or ended since) and its window, not yet
 * being ended then, held the request time.
 */
function couldRunAt(user: string, target: Target, grants: readonly Grant[], at: string): boolean {
  if (target.runners?.includes(user)) return true;
  const gaveAccess = new Set(['active', 'expired', 'released', 'revoked']);
  return grants.some(
    (g) =>
      g.requester === user &&
      g.target === target.name &&
      gaveAccess.has(g.status) &&
      g.startsAt !== undefined &&
      g.expiresAt !== undefined &&
      g.startsAt <= at &&
      at < g.expiresAt &&
      (g.ending === undefined || g.ending.at > at),
  );
}

/** One sentence for the run's failure reason, its message and the audit channel. */
export function describeRunAuthorityRefusal(r: RunAuthorityRefusal): string {
  switch (r.reason) {
    case 'unmapped-requester':
      return `the requester ${r.requester} is not mapped to an AWS identity in the configuration`;
    case 'unknown-target':
      return `target ${r.target} is not in the configuration`;
    case 'target-moved':
      return `target ${r.target} was in account ${r.recorded.accountId}, ${r.recorded.region} when the run was asked for and is now in ${r.now.accountId}, ${r.now.region}; run it again`;
    case 'not-a-runner':
      return `${r.requester} was neither a runner of ${r.target} nor holding an active grant on it when the run was asked for (${r.at})`;
    case 'unknown-snippet':
      return `snippet ${r.snippet} is not in the configuration`;
    case 'snippet-not-on-target':
      return `snippet ${r.snippet} is not allowed on ${r.target}`;
    case 'bad-params':
      return `the stored parameters do not pass the snippet's rules: ${r.problem}`;
    case 'command-mismatch':
      return 'the stored command is not what the snippet renders from the stored parameters';
    case 'limits-mismatch':
      return `the stored ${r.limit} (${r.stored}) is not the snippet's (${r.configured})`;
    case 'approval-skipped':
      return `snippet ${r.snippet} needs approval, and the run was stored as needing none`;
    default:
      return describeAuthorityRefusal(r);
  }
}
