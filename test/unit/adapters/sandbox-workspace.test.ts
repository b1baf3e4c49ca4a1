import {
  sandboxNames,
  sandboxWorkspace,
  WORK_CHANNEL,
} from '../../../src/adapters/sandbox/sandbox-workspace';
import { prodRaspi, testConfig } from '../../support/fakes';

describe('sandboxWorkspace', () => {
  it('offers the mapped people first, each with what they are and what they approve', () => {
    const { people } = sandboxWorkspace(testConfig());
    expect(people.map((p) => p.id)).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE']);
    expect(people.find((p) => p.id === 'U0ALICE')).toEqual({
      id: 'U0ALICE',
      name: 'alice',
      principal: 'access role keyturn-u0alice (assumed by IAM user alice)',
      arn: 'arn:aws:sts::123456789012:assumed-role/keyturn-u0alice/alice',
      approverOf: [],
    });
    // dave approves through the S0SREGROUP user group.
    expect(people.find((p) => p.id === 'U0DAVE')).toMatchObject({
      name: 'dave',
      principal: 'access role keyturn-u0dave (assumed by IAM role oncall-dave)',
      approverOf: ['prod-raspi'],
    });
    expect(people.find((p) => p.id === 'U0CAROL')?.approverOf).toEqual(['prod-raspi']);
  });

  it('adds approvers and group members the config does not map, who can approve but not request', () => {
    const config = testConfig({
      targets: { 'prod-raspi': { ...prodRaspi, approvers: ['U0ERIN', 'S0SREGROUP'] } },
    });
    const withGroup = {
      ...config,
      sandbox: { ...config.sandbox, userGroups: { S0SREGROUP: ['U07AB12CD'] } },
    };
    const { people } = sandboxWorkspace(withGroup);
    expect(people.find((p) => p.id === 'U0ERIN')).toEqual({
      id: 'U0ERIN',
      name: 'erin',
      approverOf: ['prod-raspi'],
    });
    // A real-looking id spells no name: it is shown as it is.
    expect(people.find((p) => p.id === 'U07AB12CD')).toEqual({
      id: 'U07AB12CD',
      name: 'U07AB12CD',
      approverOf: ['prod-raspi'],
    });
  });

  it('has a working channel, the requests channel and the audit channel, once each', () => {
    const config = testConfig();
    expect(sandboxWorkspace(config).channels.map((c) => [c.id, c.name])).toEqual([
      [WORK_CHANNEL, 'ops'],
      ['C0APPROVALS', 'ops-approvals'],
      ['C0AUDIT', 'ops-audit'],
    ]);
    const shared = { ...config, slack: { ...config.slack, requestsChannel: 'C0OPS', auditChannel: 'C0OPS' } };
    expect(sandboxWorkspace(shared).channels.map((c) => c.id)).toEqual([WORK_CHANNEL, 'C0OPS']);
  });

  it('names every id a message can mention: people, the bot, user groups and channels', () => {
    expect(sandboxNames(testConfig())).toMatchObject({
      U0ALICE: 'alice',
      U0DAVE: 'dave',
      UKEYTURN: 'keyturn',
      S0SREGROUP: 'sregroup',
      C0APPROVALS: 'ops-approvals',
      C0WORK: 'ops',
    });
  });
});
