import { AccountUnreachableError } from '../../src/adapters/aws/assumed-role-credentials';
import { SimulatedAccount } from '../../src/adapters/sandbox/simulated-account';
import type { Config, SandboxNode } from '../../src/config/types';
import { defaultGrantorRoleArn } from '../../src/domain/place';
import type { Target } from '../../src/domain/target';
import type { AccessControl } from '../../src/ports/access-control';
import { AccessControlError } from '../../src/ports/access-control';
import type { AwsPlaces } from '../../src/ports/aws-places';
import type { Fleet } from '../../src/ports/fleet';
import { prodRaspi } from './fakes';
import { type Scenario, scenario } from './grant-scenarios';

/*
 * An organisation of three accounts on fakes: Keyturn's own (A, the test config's home), a factory
 * account (B, Osaka) and a Frankfurt account (C). Each member account is its own SimulatedAccount, so
 * a grant in one leaves no trace in another, and each can be made unreachable (its grantor role
 * cannot be assumed: every port call fails with code `AccountUnreachable`) or silent (every call hangs).
 */

export const HOME = { accountId: '123456789012', region: 'ap-northeast-1' } as const;
export const FACTORY = { accountId: '444455556666', region: 'ap-northeast-3' } as const;
export const FRANKFURT = { accountId: '777788889999', region: 'eu-central-1' } as const;

export const FACTORY_NODE = 'mi-0b0000000000000b1';
export const FRANKFURT_NODE = 'mi-0c0000000000000c1';

export const factoryRaspi: Target = {
  ...prodRaspi,
  name: 'factory-raspi',
  description: 'Osaka factory Raspberry Pis',
  account: FACTORY.accountId,
  region: FACTORY.region,
  tags: { Fleet: 'factory-raspi' },
};

export const frankfurtRaspi: Target = {
  ...prodRaspi,
  name: 'frankfurt-raspi',
  description: 'Frankfurt line Raspberry Pis',
  account: FRANKFURT.accountId,
  region: FRANKFURT.region,
  tags: { Fleet: 'frankfurt-raspi' },
};

/** How an account's ports behave: answering, failing as STS does when the grantor role cannot be assumed, or never answering. */
export type Reach = 'up' | 'unreachable' | 'silent';

export interface Organisation extends Scenario {
  /** The member accounts' simulated AWS (the home account is `account`, as in every scenario). */
  factory: SimulatedAccount;
  frankfurt: SimulatedAccount;
  /** Sets how one account's ports behave from now on. */
  reach(accountId: string, how: Reach): void;
  /** Port calls made to an account while it was unreachable or silent. */
  refused: Map<string, number>;
}

function unreachable(accountId: string): AccountUnreachableError {
  return new AccountUnreachableError(accountId, defaultGrantorRoleArn('aws', accountId), 'AccessDenied');
}

/**
 * Wraps one account's ports: while it is unreachable, IAM calls fail as the IAM adapter translates
 * STS's refusal (AccessControlError, code AccountUnreachable) and SSM calls with the credentials
 * provider's own error (same code); while silent, every call hangs.
 */
function reachable<T extends object>(
  ports: T,
  accountId: string,
  state: Map<string, Reach>,
  refused: Map<string, number>,
): T {
  return new Proxy(ports, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const how = state.get(accountId) ?? 'up';
        if (how === 'up') return value.apply(target, args);
        refused.set(accountId, (refused.get(accountId) ?? 0) + 1);
        if (how === 'silent') return new Promise(() => {});
        const cause = unreachable(accountId);
        const isIam = IAM_OPS.some((op) => op === prop);
        return Promise.reject(
          isIam ? new AccessControlError('AccountUnreachable', cause.message, { cause }) : cause,
        );
      };
    },
  });
}

/** Every AccessControl method: the calls an account's IAM answers. */
export const IAM_OPS: readonly (keyof AccessControl)[] = [
  'createPolicy',
  'attachPolicy',
  'detachPolicy',
  'deletePolicy',
  'createPolicyVersion',
  'listPolicies',
  'detachFromAll',
  'attachedPolicyQuota',
  'setRunAs',
  'clearRunAs',
  'canStartSession',
];

const node = (id: string, name: string, fleet: string, place: { accountId: string; region: string }) =>
  ({
    id,
    name,
    tags: { Fleet: fleet },
    ping: 'Online',
    account: place.accountId,
    region: place.region,
  }) as SandboxNode;

/**
 * A scenario whose config serves three accounts (home A: prod-raspi; factory B: factory-raspi;
 * Frankfurt C: frankfurt-raspi), each answered by its own simulated account.
 */
export function organisation(opts: { targets?: Record<string, Target> } = {}): Organisation {
  const targets = opts.targets ?? {
    'prod-raspi': prodRaspi,
    'factory-raspi': factoryRaspi,
    'frankfurt-raspi': frankfurtRaspi,
  };
  const s = scenario({ targets });
  const config: Config = {
    ...s.config,
    aws: {
      ...s.config.aws,
      accounts: {
        [HOME.accountId]: { accountId: HOME.accountId, regions: [HOME.region] },
        [FACTORY.accountId]: {
          accountId: FACTORY.accountId,
          alias: 'factory',
          regions: [FACTORY.region],
          grantorRoleArn: defaultGrantorRoleArn('aws', FACTORY.accountId),
        },
        [FRANKFURT.accountId]: {
          accountId: FRANKFURT.accountId,
          alias: 'frankfurt',
          regions: [FRANKFURT.region],
          grantorRoleArn: defaultGrantorRoleArn('aws', FRANKFURT.accountId),
        },
      },
    },
  };
  const factory = new SimulatedAccount({
    ...FACTORY,
    nodes: [node(FACTORY_NODE, 'factory-1', 'factory-raspi', FACTORY)],
    clock: s.clock,
  });
  const frankfurt = new SimulatedAccount({
    ...FRANKFURT,
    nodes: [node(FRANKFURT_NODE, 'frankfurt-1', 'frankfurt-raspi', FRANKFURT)],
    clock: s.clock,
  });
  const state = new Map<string, Reach>();
  const refused = new Map<string, number>();
  const byAccount = new Map<string, AccessControl & Fleet>([
    [HOME.accountId, s.account],
    [FACTORY.accountId, reachable(factory, FACTORY.accountId, state, refused)],
    [FRANKFURT.accountId, reachable(frankfurt, FRANKFURT.accountId, state, refused)],
  ]);
  const at = (accountId: string): AccessControl & Fleet => {
    const ports = byAccount.get(accountId);
    if (!ports) throw new Error(`no simulated account ${accountId} in this organisation`);
    return ports;
  };
  const aws: AwsPlaces = {
    simulated: false,
    access: (accountId) => at(accountId),
    // One region per account here: a fleet asked for in another region is a test's mistake.
    fleet: (place): Fleet => {
      const served = config.aws.accounts[place.accountId];
      if (!served?.regions.includes(place.region))
        throw new Error(`no fleet in ${place.accountId}/${place.region}`);
      return at(place.accountId);
    },
    commands: () => {
      throw new Error('this organisation has no Run Command');
    },
  };
  s.config = config;
  s.deps.config = config;
  s.deps.aws = aws;
  return {
    ...s,
    factory,
    frankfurt,
    reach: (accountId, how) => state.set(accountId, how),
    refused,
  };
}
