import type { Place } from '../domain/place';
import type { AccessControl } from './access-control';
import type { CommandRunner } from './command-runner';
import type { Fleet } from './fleet';

/**
 * The AWS accounts and regions Keyturn serves, each port bound to one of them: IAM per account (IAM
 * is global), Systems Manager per account and region. A member account is reached through its grantor
 * role; when that fails, only that account's ports fail (AccessControlError / CommandRunnerError with
 * code `AccountUnreachable`), never another's.
 */
export interface AwsPlaces {
  /** True for the sandbox's simulated organisation: messages label its results "(simulated)". */
  readonly simulated: boolean;
  access(accountId: string): AccessControl;
  fleet(place: Place): Fleet;
  commands(place: Place): CommandRunner;
}

/** The error code every port of an account uses when Keyturn cannot get credentials for it (STS AssumeRole failed). */
export const ACCOUNT_UNREACHABLE = 'AccountUnreachable';

/**
 * Whether an error says the account itself could not be reached (its grantor role could not be
 * assumed), as opposed to one call failing: every port of that account fails alike until it is fixed.
 */
export function isAccountUnreachable(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (
    let e = error;
    e !== null && typeof e === 'object' && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e);
    if ((e as { code?: unknown }).code === ACCOUNT_UNREACHABLE) return true;
  }
  return false;
}
