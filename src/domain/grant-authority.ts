import { type Place, recordPlace, samePlace } from './place';
import { isListedApprover } from './approval';
import { addMinutes, type Grant, type HistoryEntry, totalMinutes } from './grant';
import { canAttachIn, type Person, personPrincipal } from './person';
import { describePrincipal, type Principal, samePrincipal } from './principal';
import { type Target, targetPlace } from './target';

/*
 * The worker's own check before it touches IAM (issue 11, point 5). The table is not a trusted
 * witness: in local mode the embedded DynamoDB listens on loopback with no authentication, and on
 * Lambda anyone who can write the table could store an `approved` grant for any principal and any
 * window, which the worker would otherwise apply with Keyturn's own credentials. So the decision
 * is derived again from what cannot be written through the table (the configuration as loaded now)
 * and from the grant's own history, and nothing is created unless every rule still holds.
 */

/** Members of the target's approver user groups, as resolved now; groups Slack could not answer for are listed apart. */
export interface ApproverGroups {
  members: ReadonlyMap<string, readonly string[]>;
  unresolved: ReadonlySet<string>;
}

export type AuthorityRefusal =
  | { reason: 'unmapped-requester'; requester: string }
  | { reason: 'principal-not-mapped'; requester: string; principal: Principal; mapped: Principal }
  | { reason: 'unknown-target'; target: string }
  | { reason: 'target-moved'; target: string; recorded: Place; now: Place }
  /** A person's own IAM user or role (`attach: direct`) is in Keyturn's account; the grant is for another. */
  | { reason: 'direct-attach-elsewhere'; principal: Principal; account: string; home: string }
  | { reason: 'no-recorded-approval' }
  | { reason: 'no-window' }
  | { reason: 'window-not-at-approval'; startsAt: string; approvedAt: string }
  | { reason: 'window-length-mismatch'; windowMinutes: number; grantedMinutes: number }
  | { reason: 'over-max-duration'; minutes: number; max: number }
  | { reason: 'over-max-total'; minutes: number; max: number }
  | { reason: 'self-approval'; requester: string }
  | { reason: 'too-few-approvals'; have: number; need: number; notApprovers: string[] }
  | { reason: 'approvers-unresolved'; groups: string[] }
  | { reason: 'policy-not-own'; policyArn: string; expected: string }
  | { reason: 'no-extension-request' }
  | { reason: 'extension-window-mismatch'; newExpiresAt: string; expected: string };

export type AuthorityDecision = { outcome: 'allow' } | ({ outcome: 'refuse' } & AuthorityRefusal);

const ALLOW: AuthorityDecision = { outcome: 'allow' };
const refuse = (refusal: AuthorityRefusal): AuthorityDecision => ({ outcome: 'refuse', ...refusal });

/**
 * Whether `principal` is exactly who `requester` maps to now. The one place a grant's principal is
 * compared with the configuration, so a change to what a principal is changes only this.
 */
export function isCurrentPrincipal(mapped: Principal | undefined, principal: Principal): boolean {
  return mapped !== undefined && samePrincipal(mapped, principal);
}

/**
 * Whether `approvers` (Slack users, repeats allowed) hold the approvals `target` needs now: distinct,
 * each a current approver (listed, or in a listed user group), and not the requester unless the target
 * allows self-approval. Fails closed: an approver in no group that resolved, while a group could not be
 * resolved, does not count.
 */
export function checkApprovals(input: {
  approvers: readonly string[];
  requester: string;
  target: Target;
  groups: ApproverGroups;
}): AuthorityDecision {
  const { target, groups } = input;
  if (!target.selfApproval && input.approvers.includes(input.requester))
    return refuse({ reason: 'self-approval', requester: input.requester });
  const groupsOf = (user: string) =>
    new Set([...groups.members].filter(([, members]) => members.includes(user)).map(([id]) => id));
  const distinct = [...new Set(input.approvers)];
  const valid = distinct.filter((by) => isListedApprover(target, by, groupsOf(by)));
  if (valid.length >= target.approvals) return ALLOW;
  const notApprovers = distinct.filter((by) => !valid.includes(by));
  if (notApprovers.length > 0 && groups.unresolved.size > 0)
    return refuse({ reason: 'approvers-unresolved', groups: [...groups.unresolved] });
  return refuse({ reason: 'too-few-approvals', have: valid.length, need: target.approvals, notApprovers });
}

/** The context a grant is judged in: the configuration as loaded now, and the target's groups as resolved now. */
export interface AuthorityContext {
  people: Readonly<Record<string, Person>>;
  targets: Readonly<Record<string, Target>>;
  groups: ApproverGroups;
  /** The policy ARN Keyturn derives for this grant; a stored `policyArn` must be this one. */
  policyArn: string;
  /** Keyturn's own account and region: where a grant recorded before there were others acts. */
  home: Place;
}

/** Approvals of the request itself, as its history records them (recorded ones, then the approving one). */
function requestApprovals(history: readonly HistoryEntry[]): { approvers: string[]; approvedAt?: string } {
  const approvers: string[] = [];
  let approvedAt: string | undefined;
  for (const entry of history) {
    if (entry.from !== 'pending') continue;
    // Only an approval moves pending → pending; records written before it was tagged carry no event.
    if (entry.to === 'pending' && (entry.event === 'approval-recorded' || entry.event === undefined))
      approvers.push(entry.by);
    if (entry.to === 'approved') {
      approvers.push(entry.by);
      approvedAt = entry.at;
    }
  }
  return approvedAt === undefined ? { approvers } : { approvers, approvedAt };
}

function minutesBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 60_000;
}

/**
 * May the worker create (or keep re-applying) this grant's policy? Everything is read again: the
 * principal is the requester's current mapping, the target exists, the window starts at the approval
 * the history records and is as long as was asked and allowed, and the history holds enough distinct
 * approvals by current approvers. `extendedMinutes` already granted count towards the window.
 */
export function checkGrantAuthority(grant: Grant, ctx: AuthorityContext): AuthorityDecision {
  return checkGrant(grant, ctx, { approvals: true });
}

function checkGrant(grant: Grant, ctx: AuthorityContext, opts: { approvals: boolean }): AuthorityDecision {
  // Own keys only: a stored `constructor` must not find Object's (as run-authority.ts does too).
  const person = Object.hasOwn(ctx.people, grant.requester) ? ctx.people[grant.requester] : undefined;
  const mapped = person === undefined ? undefined : personPrincipal(person);
  if (person === undefined || mapped === undefined)
    return refuse({ reason: 'unmapped-requester', requester: grant.requester });
  if (!isCurrentPrincipal(mapped, grant.principal))
    return refuse({
      reason: 'principal-not-mapped',
      requester: grant.requester,
      principal: grant.principal,
      mapped,
    });
  const target = Object.hasOwn(ctx.targets, grant.target) ? ctx.targets[grant.target] : undefined;
  if (!target) return refuse({ reason: 'unknown-target', target: grant.target });
  // The grant was approved for nodes in one account and region; a target moved since must be requested anew.
  const recorded = recordPlace(ctx.home, grant);
  if (!samePlace(recorded, targetPlace(target)))
    return refuse({ reason: 'target-moved', target: target.name, recorded, now: targetPlace(target) });
  if (!canAttachIn(person, recorded.accountId, ctx.home.accountId))
    return refuse({
      reason: 'direct-attach-elsewhere',
      principal: grant.principal,
      account: recorded.accountId,
      home: ctx.home.accountId,
    });
  if (grant.policyArn !== undefined && grant.policyArn !== ctx.policyArn)
    return refuse({ reason: 'policy-not-own', policyArn: grant.policyArn, expected: ctx.policyArn });

  const { approvers, approvedAt } = requestApprovals(grant.history);
  if (approvedAt === undefined) return refuse({ reason: 'no-recorded-approval' });
  if (!grant.startsAt || !grant.expiresAt) return refuse({ reason: 'no-window' });
  if (grant.startsAt !== approvedAt)
    return refuse({ reason: 'window-not-at-approval', startsAt: grant.startsAt, approvedAt });
  if (grant.durationMinutes > target.maxDurationMinutes)
    return refuse({
      reason: 'over-max-duration',
      minutes: grant.durationMinutes,
      max: target.maxDurationMinutes,
    });
  const granted = totalMinutes(grant);
  const windowMinutes = minutesBetween(grant.startsAt, grant.expiresAt);
  if (windowMinutes !== granted)
    return refuse({ reason: 'window-length-mismatch', windowMinutes, grantedMinutes: granted });
  const maxTotal = target.maxTotalMinutes ?? target.maxDurationMinutes;
  if (granted > maxTotal) return refuse({ reason: 'over-max-total', minutes: granted, max: maxTotal });

  if (!opts.approvals) return ALLOW;
  return checkApprovals({ approvers, requester: grant.requester, target, groups: ctx.groups });
}

/**
 * May the worker apply this grant's approved extension (a new policy version with a later expiry)?
 * The grant's record must still hold up (principal, target, its own policy, its window), the
 * extension's own approvals (recorded after it was requested) must, and the new expiry must be the
 * old one plus what was asked, within `maxTotal` (or `maxDuration`). The grant's original approvals
 * were checked when it was applied; an approver removed since does not end access already given.
 */
export function checkExtensionAuthority(grant: Grant, ctx: AuthorityContext): AuthorityDecision {
  const base = checkGrant(grant, ctx, { approvals: false });
  if (base.outcome === 'refuse') return base;
  const extension = grant.extension;
  const target = ctx.targets[grant.target] as Target;
  const requested = lastIndexOf(grant.history, (e) => e.event === 'extension-requested');
  if (!extension || requested < 0 || !grant.expiresAt) return refuse({ reason: 'no-extension-request' });

  const expected = addMinutes(grant.expiresAt, extension.minutes);
  if (extension.newExpiresAt !== expected)
    return refuse({
      reason: 'extension-window-mismatch',
      newExpiresAt: extension.newExpiresAt ?? '(none)',
      expected,
    });
  const total = totalMinutes(grant) + extension.minutes;
  const maxTotal = target.maxTotalMinutes ?? target.maxDurationMinutes;
  if (extension.minutes <= 0 || total > maxTotal)
    return refuse({ reason: 'over-max-total', minutes: total, max: maxTotal });

  const approvers = grant.history
    .slice(requested + 1)
    .filter((e) => e.event === 'extension-approval-recorded' || e.event === 'extension-approved')
    .map((e) => e.by);
  return checkApprovals({ approvers, requester: grant.requester, target, groups: ctx.groups });
}

function lastIndexOf<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i] as T)) return i;
  return -1;
}

/** One sentence for the grant's history, the requester's DM and the audit channel. */
export function describeAuthorityRefusal(r: AuthorityRefusal): string {
  const unlike = 'unlike anything Keyturn itself records';
  switch (r.reason) {
    case 'unmapped-requester':
      return `the requester ${r.requester} is not mapped to an AWS identity in the configuration`;
    case 'principal-not-mapped':
      return `the grant names ${describePrincipal(r.principal)}, but ${r.requester} maps to ${describePrincipal(r.mapped)}`;
    case 'unknown-target':
      return `target ${r.target} is not in the configuration`;
    case 'target-moved':
      return `target ${r.target} was in account ${r.recorded.accountId}, ${r.recorded.region} when requested and is now in ${r.now.accountId}, ${r.now.region}; request it again`;
    case 'direct-attach-elsewhere':
      return `the grant attaches to ${describePrincipal(r.principal)} (attach: direct), which is in Keyturn's account ${r.home}, and the target is in account ${r.account}; a policy can only be attached in its own account`;
    case 'no-recorded-approval':
      return "the grant's history records no approval";
    case 'no-window':
      return 'the grant has no approved window';
    case 'window-not-at-approval':
      return `the window starts at ${r.startsAt}, not at the approval recorded at ${r.approvedAt}, ${unlike}`;
    case 'window-length-mismatch':
      return `the window is ${r.windowMinutes} minutes long, not the ${r.grantedMinutes} minutes granted, ${unlike}`;
    case 'over-max-duration':
      return `the grant asks for ${r.minutes} minutes, over the target's maxDuration of ${r.max}`;
    case 'over-max-total':
      return `the grant would last ${r.minutes} minutes in all, over the target's limit of ${r.max}`;
    case 'self-approval':
      return `the history shows an approval by the requester ${r.requester}, and the target does not allow self-approval`;
    case 'too-few-approvals':
      return `the history shows ${r.have} approval${r.have === 1 ? '' : 's'} by current approvers of the target, and it needs ${r.need}${r.notApprovers.length > 0 ? ` (${r.notApprovers.join(', ')} ${r.notApprovers.length === 1 ? 'is' : 'are'} not an approver)` : ''}`;
    case 'approvers-unresolved':
      return `Slack could not say who is in approver group ${r.groups.join(', ')}, so the approvals cannot be confirmed`;
    case 'policy-not-own':
      return `the grant names policy ${r.policyArn}, not its own ${r.expected}`;
    case 'no-extension-request':
      return "the grant's history records no extension request";
    case 'extension-window-mismatch':
      return `the extension would end at ${r.newExpiresAt}, not at ${r.expected}, ${unlike}`;
  }
}
