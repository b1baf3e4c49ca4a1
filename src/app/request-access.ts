import { closest } from 'fastest-levenshtein';
import { MAX_REASON_CHARS, parseAccessCommand } from '../domain/access-command';
import { type DurationError, parseDuration } from '../domain/duration';
import { type Grant, isOpen, toIsoSeconds } from '../domain/grant';
import { type AwsProfile, awsProfiles, canAttachIn, personPrincipal } from '../domain/person';
import { accountLabel, type ServedAccount } from '../domain/place';
import type { Principal } from '../domain/principal';
import type { Target } from '../domain/target';
import type { Deps } from './deps';
import { locatedAt } from './places';

export type RequestRefusal =
  | { reason: 'unmapped-user'; user: string }
  | { reason: 'unknown-target'; given: string; suggestion?: string; valid: string[] }
  | { reason: 'bad-duration'; given: string; error: DurationError; target: Target }
  | { reason: 'over-max'; minutes: number; target: Target }
  | { reason: 'missing-reason'; target: Target }
  | { reason: 'reason-too-long'; chars: number; max: number }
  | { reason: 'open-grant-exists'; existing: Grant }
  /** The same Slack request (its `trigger_id`) came before: a retry or a replay opens nothing new. */
  | { reason: 'duplicate-request'; existing?: Grant }
  | { reason: 'run-as-conflict'; existing: Grant; runAs: string; wanted: string }
  /**
   * The person's grants attach to their own IAM user or role (`attach: direct`), which lives in
   * Keyturn's own account, and the target's nodes are in another account: no policy there can name it.
   */
  | {
      reason: 'direct-attach-elsewhere';
      user: string;
      principal: Principal;
      target: Target;
      /** How people see the two accounts: `factory (444455556666)`. */
      targetAccount: string;
      homeAccount: string;
    };

export type RequestAccessResult =
  /**
   * `profiles`: the asker's access-role profiles for ~/.aws/config, one per account with targets, so
   * help can show them at any time (none for `attach: direct`).
   */
  | { outcome: 'help'; targets: Target[]; profiles: AwsProfile[] }
  | { outcome: 'requested'; grant: Grant; channel: string }
  | { outcome: 'refused'; refusal: RequestRefusal };

const MAX_ID_ATTEMPTS = 5;

/**
 * `/access <target> [duration] <reason…>`: validates, stores a pending grant, and queues the
 * approval card. Nothing is stored or sent when the request is refused.
 */
export async function requestAccess(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'clock' | 'newId'>,
  input: { user: string; text: string; requestKey?: string },
): Promise<RequestAccessResult> {
  const command = parseAccessCommand(input.text);
  if (command.kind !== 'request') {
    const { config } = deps;
    const person = Object.hasOwn(config.people, input.user) ? config.people[input.user] : undefined;
    const targets = Object.values(config.targets);
    const profiles = person ? awsProfiles(config.aws, person, targets) : [];
    return { outcome: 'help', targets, profiles };
  }
  return submitRequest(deps, {
    user: input.user,
    ...command,
    ...(input.requestKey ? { requestKey: input.requestKey } : {}),
  });
}

/** A request as the typed command and the request form both give it. */
export interface AccessRequest {
  user: string;
  target: string;
  /** As typed or picked (`1h`, `2h30m`); the target's default when absent. */
  durationText?: string;
  reason: string;
  /**
   * What Slack sent once per request (the command's trigger_id, the form's view id): a replay of the
   * same signed request within Slack's five minutes opens no second request.
   */
  requestKey?: string;
}

/**
 * Validates a request and stores it as a pending grant, then queues the approval card. The typed
 * command and the request form both end here, so they refuse and accept exactly the same requests.
 */
export async function submitRequest(
  deps: Pick<Deps, 'config' | 'grants' | 'queue' | 'clock' | 'newId'>,
  command: AccessRequest,
): Promise<RequestAccessResult> {
  const { config } = deps;
  const input = { user: command.user, requestKey: command.requestKey };
  const targets = Object.values(config.targets);

  const refuse = (refusal: RequestRefusal): RequestAccessResult => ({ outcome: 'refused', refusal });
  const person = Object.hasOwn(config.people, input.user) ? config.people[input.user] : undefined;
  const principal = person ? personPrincipal(person) : undefined;
  if (!person || !principal) return refuse({ reason: 'unmapped-user', user: input.user });

  // Own keys only: `/access constructor` must not find Object's constructor (as grant-authority.ts does too).
  const target = Object.hasOwn(config.targets, command.target) ? config.targets[command.target] : undefined;
  if (!target) {
    const valid = targets.map((t) => t.name);
    const suggestion = valid.length > 0 ? closest(command.target, valid) : undefined;
    return refuse({
      reason: 'unknown-target',
      given: command.target,
      valid,
      ...(suggestion ? { suggestion } : {}),
    });
  }

  if (!canAttachIn(person, target.account, config.aws.accountId))
    return refuse({
      reason: 'direct-attach-elsewhere',
      user: input.user,
      principal,
      target,
      targetAccount: describeAccount(config.aws.accounts, target.account),
      homeAccount: describeAccount(config.aws.accounts, config.aws.accountId),
    });

  let minutes = target.defaultDurationMinutes;
  if (command.durationText !== undefined) {
    const parsed = parseDuration(command.durationText);
    if (!parsed.ok)
      return refuse({ reason: 'bad-duration', given: command.durationText, error: parsed.error, target });
    minutes = parsed.value;
  }
  if (minutes > target.maxDurationMinutes) return refuse({ reason: 'over-max', minutes, target });

  const reason = command.reason.trim();
  if (reason === '') return refuse({ reason: 'missing-reason', target });
  if (reason.length > MAX_REASON_CHARS)
    return refuse({ reason: 'reason-too-long', chars: reason.length, max: MAX_REASON_CHARS });

  // Session Manager reads one SSMSessionRunAs tag per principal: two open grants must not want different users.
  if (target.runAs) {
    const clash = (await deps.grants.listByRequester(input.user)).find((g) => {
      const runAs = isOpen(g.status) ? config.targets[g.target]?.runAs : undefined;
      return runAs !== undefined && runAs !== target.runAs;
    });
    const clashRunAs = clash ? config.targets[clash.target]?.runAs : undefined;
    if (clash && clashRunAs)
      return refuse({ reason: 'run-as-conflict', existing: clash, runAs: clashRunAs, wanted: target.runAs });
  }

  const at = toIsoSeconds(deps.clock.now());
  for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
    const grant: Grant = {
      id: deps.newId(),
      ...(input.requestKey ? { requestKey: input.requestKey } : {}),
      requester: input.user,
      principal,
      target: target.name,
      ...locatedAt(target),
      durationMinutes: minutes,
      reason,
      status: 'pending',
      version: 1,
      requestedAt: at,
      approvals: [],
      history: [{ at, from: null, to: 'pending', by: input.user }],
    };
    const created = await deps.grants.create(grant);
    if (created.ok) {
      await deps.queue.enqueue({ kind: 'post-request-card', grantId: grant.id });
      return { outcome: 'requested', grant, channel: config.slack.requestsChannel };
    }
    if (created.reason === 'open-grant-exists')
      return refuse({ reason: 'open-grant-exists', existing: created.existing });
    if (created.reason === 'duplicate-request')
      return refuse({
        reason: 'duplicate-request',
        ...(created.existing ? { existing: created.existing } : {}),
      });
  }
  throw new Error(`could not find a free grant id in ${MAX_ID_ATTEMPTS} attempts`);
}

function describeAccount(accounts: Readonly<Record<string, ServedAccount>>, accountId: string): string {
  return accountLabel(
    (Object.hasOwn(accounts, accountId) ? accounts[accountId] : undefined) ?? { accountId },
  );
}
