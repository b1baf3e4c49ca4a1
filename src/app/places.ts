import type { Config } from '../config/types';
import { type Place, recordPlace } from '../domain/place';
import type { ManagedNode } from '../domain/node';
import type { AwsAccount } from '../domain/principal';
import { type Target, targetPlace } from '../domain/target';
import type { AccessControl } from '../ports/access-control';
import { isAccountUnreachable } from '../ports/aws-places';
import type { CommandRunner } from '../ports/command-runner';
import type { Fleet } from '../ports/fleet';
import type { Deps } from './deps';

/*
 * Where a grant, a run or a target acts, and the ports bound there. A grant and a run record the
 * account and region of their target when requested, and act there for good: a target moved in the
 * config since is refused by the worker's authority check, never silently followed.
 */

type Located = { account?: string; region?: string };

export function placeOf(config: Pick<Config, 'aws'>, record: Located): Place {
  return recordPlace(config.aws, record);
}

/** The account as ARNs need it (partition + id). */
export function accountOf(config: Pick<Config, 'aws'>, record: Located): AwsAccount {
  return { partition: config.aws.partition, accountId: placeOf(config, record).accountId };
}

/** The account and region as ARNs of regional resources need them. */
export function regionalAccountOf(
  config: Pick<Config, 'aws'>,
  record: Located,
): AwsAccount & { region: string } {
  const place = placeOf(config, record);
  return { partition: config.aws.partition, accountId: place.accountId, region: place.region };
}

export function accessFor(deps: Pick<Deps, 'config' | 'aws'>, record: Located): AccessControl {
  return deps.aws.access(placeOf(deps.config, record).accountId);
}

export function fleetFor(deps: Pick<Deps, 'config' | 'aws'>, record: Located): Fleet {
  return deps.aws.fleet(placeOf(deps.config, record));
}

export function commandsFor(deps: Pick<Deps, 'config' | 'aws'>, record: Located): CommandRunner {
  return deps.aws.commands(placeOf(deps.config, record));
}

/** The fleet where a target's nodes are. */
export function targetFleet(deps: Pick<Deps, 'aws'>, target: Pick<Target, 'account' | 'region'>): Fleet {
  return deps.aws.fleet(targetPlace(target));
}

/** What a new grant or run records: its target's account and region. */
export function locatedAt(target: Pick<Target, 'account' | 'region'>): { account: string; region: string } {
  return { account: target.account, region: target.region };
}

/**
 * The nodes a message shows people (the request card, the ready DM, the App Home). An account Keyturn
 * cannot reach shows none rather than keeping the message from going out (the requester must still hear
 * that their grant failed, approvers must still see the request); other errors propagate, for a retry.
 */
export async function nodesToShow(
  deps: Pick<Deps, 'logger'>,
  fleet: Fleet,
  tags: Readonly<Record<string, string>>,
): Promise<readonly ManagedNode[]> {
  try {
    return await fleet.nodesTagged(tags);
  } catch (error) {
    if (!isAccountUnreachable(error)) throw error;
    deps.logger.warn({ err: (error as Error).message }, 'nodes not shown: their account cannot be reached');
    return [];
  }
}
