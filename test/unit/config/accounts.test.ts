import { stringify } from 'yaml';
import { formatConfigError } from '../../../src/config/problems';
import { configOf, problemsOf } from './example';

/*
 * Many accounts and regions (issue 14): what `aws.accounts`, `aws.regions` and a target's `account`/`region`
 * accept, what they refuse and how the refusal says to declare it. Built from a small config of its own, so a
 * change to the shipped example's organisation does not move these cases.
 */

const HOME = '111122223333';
const FACTORY = '444455556666';

function yamlWith(
  aws: Record<string, unknown>,
  target: Record<string, unknown> = {},
  extra: object = {},
): string {
  return stringify({
    aws: { accountId: HOME, region: 'ap-northeast-1', ...aws },
    slack: { requestsChannel: 'C0APPROVALS', auditChannel: 'C0AUDIT' },
    people: { U0ALICE: { iamUser: 'alice' }, U0CAROL: { iamUser: 'carol' } },
    targets: {
      'pi-line': {
        tags: { Fleet: 'pi-line' },
        defaultDuration: '1h',
        maxDuration: '4h',
        approvers: ['U0CAROL'],
        ...target,
      },
    },
    snippets: {},
    ...extra,
  });
}

const factory = { accountId: FACTORY, alias: 'factory', regions: ['eu-central-1', 'ap-northeast-3'] };

describe('config: targets in many accounts and regions', () => {
  it('puts a target without account or region in Keyturn’s own account and region', () => {
    const config = configOf(yamlWith({}));
    expect(config.targets['pi-line']).toMatchObject({ account: HOME, region: 'ap-northeast-1' });
    expect(config.aws.accounts).toEqual({ [HOME]: { accountId: HOME, regions: ['ap-northeast-1'] } });
  });

  it('resolves a member account by alias or id, with the default grantor role', () => {
    for (const account of ['factory', FACTORY]) {
      const config = configOf(yamlWith({ accounts: [factory] }, { account, region: 'eu-central-1' }));
      expect(config.targets['pi-line']).toMatchObject({ account: FACTORY, region: 'eu-central-1' });
      expect(config.aws.accounts[FACTORY]).toEqual({
        ...factory,
        grantorRoleArn: `arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
      });
      // The home account is served too, and assumes no role.
      expect(config.aws.accounts[HOME]?.grantorRoleArn).toBeUndefined();
    }
  });

  it('takes a member account’s only region when the target names none', () => {
    const single = { accountId: FACTORY, regions: ['eu-central-1'] };
    const config = configOf(yamlWith({ accounts: [single] }, { account: FACTORY }));
    expect(config.targets['pi-line']).toMatchObject({ account: FACTORY, region: 'eu-central-1' });
  });

  it('serves more regions of the home account when aws.regions lists them', () => {
    const config = configOf(
      yamlWith({ regions: ['ap-northeast-1', 'ap-northeast-3'] }, { region: 'ap-northeast-3' }),
    );
    expect(config.targets['pi-line']).toMatchObject({ account: HOME, region: 'ap-northeast-3' });
    expect(config.aws.accounts[HOME]?.regions).toEqual(['ap-northeast-1', 'ap-northeast-3']);
  });

  it('keeps a grantor role given by hand', () => {
    const role = `arn:aws:iam::${FACTORY}:role/platform/keyturn-grantor`;
    const config = configOf(
      yamlWith(
        { accounts: [{ ...factory, grantorRole: role }] },
        { account: 'factory', region: 'eu-central-1' },
      ),
    );
    expect(config.aws.accounts[FACTORY]?.grantorRoleArn).toBe(role);
  });

  const refusals: { name: string; yaml: string; problems: { path: string; message: RegExp }[] }[] = [
    {
      name: 'a target in an undeclared account, by id',
      yaml: yamlWith({}, { account: FACTORY }),
      problems: [
        {
          path: 'targets.pi-line.account',
          message: new RegExp(
            `is not a declared account; add it under aws.accounts as - \\{ accountId: "${FACTORY}"`,
          ),
        },
      ],
    },
    {
      name: 'a target in an undeclared account, by alias',
      yaml: yamlWith({ accounts: [factory] }, { account: 'lab', region: 'eu-central-1' }),
      problems: [{ path: 'targets.pi-line.account', message: /is not a declared account.*alias: lab/ }],
    },
    {
      name: 'a target in a region its member account does not declare',
      yaml: yamlWith({ accounts: [factory] }, { account: 'factory', region: 'us-east-1' }),
      problems: [
        {
          path: 'targets.pi-line.region',
          message:
            /is not one of account 444455556666's regions \(eu-central-1, ap-northeast-3\); add it to aws.accounts\[0\].regions/,
        },
      ],
    },
    {
      name: 'a target in a home region not listed',
      yaml: yamlWith({}, { region: 'eu-west-1' }),
      problems: [{ path: 'targets.pi-line.region', message: /add it to aws.regions/ }],
    },
    {
      name: 'a member account of several regions and a target naming none',
      yaml: yamlWith({ accounts: [factory] }, { account: 'factory' }),
      problems: [
        {
          path: 'targets.pi-line.account',
          message: /is in several regions \(eu-central-1, ap-northeast-3\); say which with region:/,
        },
      ],
    },
    {
      name: 'the home account listed as a member',
      yaml: yamlWith({ accounts: [{ accountId: HOME, regions: ['ap-northeast-1'] }] }),
      problems: [{ path: 'aws.accounts[0].accountId', message: /is Keyturn's own account/ }],
    },
    {
      name: 'a member account listed twice',
      yaml: yamlWith({ accounts: [factory, { accountId: FACTORY, regions: ['eu-central-1'] }] }),
      problems: [{ path: 'aws.accounts[1].accountId', message: /is listed twice in aws.accounts/ }],
    },
    {
      name: 'two accounts with one alias',
      yaml: yamlWith({ alias: 'factory', accounts: [factory] }),
      problems: [{ path: 'aws.accounts[0].alias', message: /is the alias of another account/ }],
    },
    {
      name: 'an alias of 12 digits, which reads as an account id',
      yaml: yamlWith({ accounts: [{ ...factory, alias: '999988887777' }] }),
      problems: [{ path: 'aws.accounts[0].alias', message: /is not an account alias/ }],
    },
    {
      name: 'a grantor role other than the template’s, which Keyturn could use beyond its bounds',
      yaml: yamlWith({
        accounts: [{ ...factory, grantorRole: `arn:aws:iam::${FACTORY}:role/OrganizationAccountAccessRole` }],
      }),
      problems: [{ path: 'aws.accounts[0].grantorRole', message: /is not a role named keyturn-grantor/ }],
    },
    {
      name: 'a grantor role in another account',
      yaml: yamlWith({
        accounts: [{ ...factory, grantorRole: `arn:aws:iam::${HOME}:role/keyturn-grantor` }],
      }),
      problems: [
        {
          path: 'aws.accounts[0].grantorRole',
          message: /is a role in account 111122223333, not in 444455556666/,
        },
      ],
    },
    {
      name: 'a member region in another partition',
      yaml: yamlWith({ accounts: [{ ...factory, regions: ['cn-north-1'] }] }),
      problems: [{ path: 'aws.accounts[0].regions[0]', message: /is not in partition aws, Keyturn's own/ }],
    },
    {
      name: 'aws.regions without Keyturn’s own region',
      yaml: yamlWith({ regions: ['ap-northeast-3'] }),
      problems: [{ path: 'aws.regions', message: /does not list Keyturn's own region ap-northeast-1/ }],
    },
    {
      name: 'a member account id given as a number',
      yaml: yamlWith({ accounts: [{ ...factory, accountId: 444455556666 }] }),
      problems: [{ path: 'aws.accounts[0].accountId', message: /is a number; quote the account id/ }],
    },
    {
      name: 'a sandbox node in an undeclared account',
      yaml: yamlWith(
        {},
        {},
        {
          sandbox: {
            fleet: [{ id: 'mi-0a1b2c3d4e5f60001', name: 'pi-1', tags: { Fleet: 'pi-line' }, account: 'lab' }],
          },
        },
      ),
      problems: [{ path: 'sandbox.fleet[0].account', message: /is not a declared account/ }],
    },
  ];

  it.each(refusals)('refuses $name, saying how to declare it', ({ yaml, problems }) => {
    const error = problemsOf(yaml);
    for (const expected of problems) {
      const found = error.problems.find((p) => p.path === expected.path && expected.message.test(p.message));
      if (!found)
        throw new Error(
          `no problem at ${expected.path} matching ${expected.message}:\n${formatConfigError(error)}`,
        );
    }
  });
});
