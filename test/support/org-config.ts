import type { Config } from '../../src/config/types';
import type { Target } from '../../src/domain/target';
import { prodRaspi, testConfig } from './fakes';

/*
 * An organisation: Keyturn's own account (123456789012, ap-northeast-1) and a member account aliased
 * `factory` (444455556666) with targets in Osaka and Frankfurt, for the tests of what people see.
 */

export const HOME = '123456789012';
export const FACTORY = '444455556666';

/** A Pi line in the factory account, Osaka. */
export const osakaRaspi: Target = {
  ...prodRaspi,
  name: 'osaka-raspi',
  description: 'Osaka Pi line',
  account: FACTORY,
  region: 'ap-northeast-3',
  tags: { Fleet: 'osaka-raspi' },
};

/** Another Pi line in the factory account, Frankfurt. */
export const frankfurtRaspi: Target = {
  ...osakaRaspi,
  name: 'frankfurt-raspi',
  description: 'Frankfurt Pi line',
  region: 'eu-central-1',
  tags: { Fleet: 'frankfurt-raspi' },
};

export function orgConfig(): Config {
  const base = testConfig({
    targets: { 'prod-raspi': prodRaspi, 'osaka-raspi': osakaRaspi, 'frankfurt-raspi': frankfurtRaspi },
  });
  return {
    ...base,
    aws: {
      ...base.aws,
      accounts: {
        [HOME]: { accountId: HOME, regions: ['ap-northeast-1'] },
        [FACTORY]: {
          accountId: FACTORY,
          alias: 'factory',
          regions: ['ap-northeast-3', 'eu-central-1'],
          grantorRoleArn: `arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
        },
      },
    },
    people: {
      ...base.people,
      // Grants attach to their own IAM user, which lives in Keyturn's own account.
      U0ERIN: {
        user: 'U0ERIN',
        identity: { kind: 'iam-user', name: 'erin', path: '/engineering/' },
        attach: 'direct',
      },
    },
  };
}
