import type { Partition } from './principal';

/** Where a target's nodes live, and so where its grant policy, sessions and commands are: one account, one region. */
export interface Place {
  accountId: string;
  region: string;
}

/**
 * An account Keyturn serves: its own (the home account, where it runs) or a member account of the
 * organisation, reached through the grantor role Keyturn assumes there.
 */
export interface ServedAccount {
  accountId: string;
  /** What people see beside the id (`factory (444455556666)`), when configured. */
  alias?: string;
  /** The regions with targets in this account: where the sweeper looks for sessions and commands. */
  regions: readonly string[];
  /** The role Keyturn assumes in a member account; absent for the home account (Keyturn's own role). */
  grantorRoleArn?: string;
}

/** Name of the role the grantor template creates in every member account (deploy/grantor.ts). */
export const GRANTOR_ROLE_NAME = 'keyturn-grantor';

/** `arn:aws:iam::444455556666:role/keyturn-grantor`: the default grantor role of a member account. */
export function defaultGrantorRoleArn(partition: Partition, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:role/${GRANTOR_ROLE_NAME}`;
}

export function samePlace(a: Place, b: Place): boolean {
  return a.accountId === b.accountId && a.region === b.region;
}

/** `444455556666/ap-northeast-3`: a map key for per-place clients and tallies. */
export function placeKey(place: Place): string {
  return `${place.accountId}/${place.region}`;
}

/** `factory (444455556666)`, or the bare id without an alias. */
export function accountLabel(account: Pick<ServedAccount, 'accountId' | 'alias'>): string {
  return account.alias === undefined ? account.accountId : `${account.alias} (${account.accountId})`;
}

/** `factory (444455556666), ap-northeast-3`: how people see where a target is. */
export function describePlace(accounts: Readonly<Record<string, ServedAccount>>, place: Place): string {
  const account = Object.hasOwn(accounts, place.accountId) ? accounts[place.accountId] : undefined;
  return `${accountLabel(account ?? { accountId: place.accountId })}, ${place.region}`;
}

/** Every (account, region) Keyturn serves, home account first, in config order. */
export function servedPlaces(accounts: Readonly<Record<string, ServedAccount>>): Place[] {
  return Object.values(accounts).flatMap((a) =>
    a.regions.map((region) => ({ accountId: a.accountId, region })),
  );
}

/** Where a grant or run acts: the place it recorded, or Keyturn's own for records written before there were others. */
export function recordPlace(
  home: { accountId: string; region: string },
  record: { account?: string; region?: string },
): Place {
  return { accountId: record.account ?? home.accountId, region: record.region ?? home.region };
}

/** Keyturn's own account and region, and every account it serves: what messages need to say where. `Config.aws` has this shape. */
export interface ServedPlaces {
  accountId: string;
  region: string;
  accounts: Readonly<Record<string, ServedAccount>>;
}

/**
 * Where people are told a grant, run or target is (`factory (444455556666), ap-northeast-3`), or
 * undefined when that is the one place Keyturn serves: with one account and one region every message
 * would repeat the same words, and the ready DM's profile and commands name the account and region anyway.
 */
export function whereShown(
  served: ServedPlaces,
  record: { account?: string; region?: string },
): string | undefined {
  const place = recordPlace(served, record);
  const places = servedPlaces(served.accounts);
  const only = places.length === 1 ? places[0] : undefined;
  if (only !== undefined && samePlace(only, place)) return undefined;
  return describePlace(served.accounts, place);
}
