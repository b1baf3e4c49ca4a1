import { checkValue } from '../../../src/domain/snippet';
import { configOf, EXAMPLE_TEXT, exampleWith, ONE_ACCOUNT, problemsOf } from './example';

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('parseConfig: the shipped example', () => {
  const config = configOf(EXAMPLE_TEXT);

  // Issue 11 point 8: the logs snippet's service pattern allowed `-f`, read by journalctl as an option.
  it('has no snippet parameter that accepts a value starting with -, which a command would take for an option', () => {
    const params = Object.values(config.snippets).flatMap((s) =>
      Object.entries(s.params).map(([name, p]) => ({ snippet: s.name, name, pattern: p.pattern })),
    );
    expect(params.map((p) => `${p.snippet}.${p.name}`)).toContain('logs.service');
    for (const p of params)
      for (const value of ['-', '-f', '--follow', '-1', '-n1', '--since=today', '-.service'])
        expect({ ...p, value, accepted: checkValue(p.name, p.pattern, value) === undefined }).toEqual({
          ...p,
          value,
          accepted: false,
        });
  });

  it('maps people to the identities that may assume their access roles', () => {
    const user = (id: string, name: string) => ({
      user: id,
      identity: { kind: 'iam-user', name, path: '/' },
      attach: 'access-role',
    });
    expect(config.people).toEqual({
      U0ALICE: user('U0ALICE', 'alice'),
      U0BOB: user('U0BOB', 'bob'),
      U0CAROL: user('U0CAROL', 'carol'),
      U0DAVE: { user: 'U0DAVE', identity: { kind: 'iam-role', name: 'oncall-dave' }, attach: 'access-role' },
    });
  });

  it.each<[string, unknown, unknown]>([
    [
      'an IAM user with a path',
      { iamUser: 'engineering/erin' },
      { kind: 'iam-user', name: 'erin', path: '/engineering/' },
    ],
    [
      'an IAM user with a deeper path',
      { iamUser: 'eng/platform/erin' },
      { kind: 'iam-user', name: 'erin', path: '/eng/platform/' },
    ],
    [
      'an Identity Center user',
      { identityCenter: 'erin@example.com' },
      { kind: 'identity-center', userName: 'erin@example.com' },
    ],
    [
      'a role with a path',
      { iamRole: 'service/oncall', sessionName: 'erin' },
      { kind: 'iam-role', name: 'oncall', path: '/service/', sessionName: 'erin' },
    ],
    [
      'a person in a shared role, by session name',
      { iamRole: 'oncall', sessionName: 'erin' },
      { kind: 'iam-role', name: 'oncall', sessionName: 'erin' },
    ],
  ])('maps %s', (_what, mapping, identity) => {
    const people = configOf(exampleWith([['people', 'U0ERIN'], mapping])).people;
    expect(people.U0ERIN).toEqual({ user: 'U0ERIN', identity, attach: 'access-role' });
  });

  it('keeps attaching to a person’s own user or role only as the explicit opt-in attach: direct', () => {
    const people = configOf(
      exampleWith(
        [['people', 'U0ERIN'], { iamUser: 'erin', attach: 'direct' }],
        [['people', 'U0FRED'], { iamRole: 'fred', attach: 'direct' }],
      ),
    ).people;
    expect(people.U0ERIN?.attach).toBe('direct');
    expect(people.U0FRED).toEqual({
      user: 'U0FRED',
      identity: { kind: 'iam-role', name: 'fred' },
      attach: 'direct',
    });
  });

  it('refuses targets whose access boundary would not fit a managed policy, saying what to change', () => {
    const targets = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [
        `t${i}`,
        { tags: { Fleet: `f${i}` }, defaultDuration: '30m', maxDuration: '1h', approvers: ['U0CAROL'] },
      ]),
    );
    const error = problemsOf(
      exampleWith(
        [['targets'], targets],
        [['snippets'], {}],
        [['people', 'U0DAVE'], { iamRole: 'oncall-dave' }],
      ),
    );
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'targets',
        message: expect.stringMatching(/over IAM's 6144 .*fewer distinct tag sets/),
      }),
    ]);
  });

  it.each([
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['eu-west-1', 'aws'],
  ])('derives the partition of %s (%s)', (region, partition) => {
    // Keyturn's own account alone: the example's member account is in the aws partition.
    expect(configOf(exampleWith(...ONE_ACCOUNT, [['aws', 'region'], region])).aws.partition).toBe(partition);
  });

  it('fills target names, durations in minutes and defaults', () => {
    expect(config.targets['prod-raspi']).toEqual({
      name: 'prod-raspi',
      description: 'Production Raspberry Pi fleet',
      // Neither account nor region in the example: Keyturn's own.
      account: '123456789012',
      region: 'ap-northeast-1',
      tags: { Fleet: 'prod-raspi' },
      defaultDurationMinutes: 60,
      maxDurationMinutes: 240,
      approvers: ['U0CAROL', 'S0SREGROUP'],
      approvals: 1,
      selfApproval: false,
      documents: ['shell', 'ssh'],
      runAs: 'pi-ops',
      warnBeforeMinutes: 10,
      approvalTimeoutMinutes: 60,
      maxTotalMinutes: 360,
      runners: ['U0DAVE'],
    });
    // staging-web leaves approvals, selfApproval, warnBefore and approvalTimeout to their defaults, sets no runAs.
    expect(config.targets['staging-web']).toEqual({
      name: 'staging-web',
      description: 'Staging web servers',
      account: '123456789012',
      region: 'ap-northeast-1',
      tags: { Fleet: 'staging-web', Env: 'staging' },
      defaultDurationMinutes: 30,
      maxDurationMinutes: 120,
      approvers: ['U0CAROL', 'U0DAVE'],
      approvals: 1,
      selfApproval: false,
      documents: ['shell', 'port-forward'],
      // warnBefore and approvalTimeout left out: their defaults, in minutes.
      warnBeforeMinutes: 10,
      approvalTimeoutMinutes: 60,
      runners: [],
    });
    expect(config.targets['staging-web']).not.toHaveProperty('runAs');
  });

  it('maps snippets with their names, params and approval flags', () => {
    expect(Object.keys(config.snippets)).toEqual(['disk', 'logs', 'restart-agent']);
    expect(config.snippets.disk).toEqual({
      name: 'disk',
      description: 'Disk usage',
      run: 'df -h /',
      targets: ['prod-raspi'],
      params: {},
      approval: false,
    });
    expect(config.snippets.logs?.params).toEqual({
      service: { pattern: '^[a-z0-9@._][a-z0-9@._-]{0,63}$', description: 'systemd unit name' },
      lines: { pattern: '^[0-9]{1,4}$', default: '100', description: 'how many lines' },
    });
    expect(config.snippets['restart-agent']?.approval).toBe(true);
  });

  it('maps aws, slack, digest and the sandbox fleet', () => {
    expect(config.aws).toEqual({
      accountId: '123456789012',
      region: 'ap-northeast-1',
      partition: 'aws',
      // The home account, serving its own region, and the factory's member account in Frankfurt.
      accounts: {
        '123456789012': { accountId: '123456789012', regions: ['ap-northeast-1'] },
        '444455556666': {
          accountId: '444455556666',
          alias: 'factory',
          regions: ['eu-central-1'],
          grantorRoleArn: 'arn:aws:iam::444455556666:role/keyturn-grantor',
        },
      },
    });
    expect(config.targets['factory-pi']).toMatchObject({ account: '444455556666', region: 'eu-central-1' });
    expect(config.slack).toEqual({
      requestsChannel: 'C0APPROVALS',
      auditChannel: 'C0AUDIT',
      auditEvents: 'all',
    });
    expect(config.digest).toEqual({ at: '09:00', timezone: 'Asia/Tokyo' });
    const fleet = config.sandbox.fleet;
    expect(fleet.filter((n) => n.tags.Fleet === 'prod-raspi' && n.id.startsWith('mi-'))).toHaveLength(4);
    expect(fleet.filter((n) => n.ping === 'ConnectionLost')).toHaveLength(1);
    expect(fleet.filter((n) => n.tags.Fleet === 'staging-web' && n.tags.Env === 'staging')).toHaveLength(2);
    // The factory line is in the member account (named by its alias) and its region; the rest in Keyturn's own.
    const factory = fleet.filter((n) => n.tags.Fleet === 'factory-pi');
    expect(factory.map((n) => [n.account, n.region])).toEqual([
      ['444455556666', 'eu-central-1'],
      ['444455556666', 'eu-central-1'],
    ]);
    expect(
      fleet.filter((n) => n.account !== '123456789012' || n.region !== 'ap-northeast-1').map((n) => n.name),
    ).toEqual(['factory-pi-1', 'factory-pi-2']);
    expect(
      fleet.filter((n) => !['prod-raspi', 'staging-web', 'factory-pi'].includes(n.tags.Fleet ?? '')),
    ).toHaveLength(1);
  });

  it('is deeply frozen', () => {
    expect(isDeepFrozen(config)).toBe(true);
    const target = config.targets['prod-raspi'];
    expect(target).toBeDefined();
    // Test files run as strict-mode modules, so writing to a frozen object throws rather than being ignored.
    expect(() => {
      (target as { maxDurationMinutes: number }).maxDurationMinutes = 720;
    }).toThrow(TypeError);
    expect(() => (target?.approvers as string[] | undefined)?.push('U0MALLORY')).toThrow(/not extensible/);
    expect(target?.maxDurationMinutes).toBe(240);
    expect(target?.approvers).toEqual(['U0CAROL', 'S0SREGROUP']);
  });
});

describe('parseConfig: defaults', () => {
  it('fills digest, snippets, sandbox and target defaults when they are left out', () => {
    const config = configOf(
      exampleWith(
        [['digest'], undefined],
        [['snippets'], undefined],
        [['sandbox'], undefined],
        [['targets', 'prod-raspi', 'documents'], undefined],
        [['targets', 'prod-raspi', 'description'], undefined],
      ),
    );
    expect(config.digest).toEqual({ at: '09:00', timezone: 'UTC' });
    expect(config.snippets).toEqual({});
    expect(config.sandbox).toEqual({ fleet: [], userGroups: {} });
    expect(config.targets['prod-raspi']?.documents).toEqual(['shell']);
    expect(config.targets['prod-raspi']?.description).toBe('');
  });

  it('fills the other digest field when only one is given', () => {
    const config = configOf(exampleWith([['digest'], { timezone: 'Europe/Berlin' }]));
    expect(config.digest).toEqual({ at: '09:00', timezone: 'Europe/Berlin' });
  });

  it('reads Run Command settings: runners, delivery timeout and where full output goes', () => {
    const config = configOf(
      exampleWith(
        [['snippets', 'disk', 'deliveryTimeout'], 60],
        [
          ['commandOutput'],
          { s3Bucket: 'keyturn-run-output', s3KeyPrefix: 'run/', cloudWatchLogGroup: '/keyturn/run' },
        ],
      ),
    );
    expect(config.targets['prod-raspi']?.runners).toEqual(['U0DAVE']);
    expect(config.snippets.disk?.deliveryTimeout).toBe(60);
    expect(config.commandOutput).toEqual({
      s3Bucket: 'keyturn-run-output',
      s3KeyPrefix: 'run/',
      cloudWatchLogGroup: '/keyturn/run',
    });
    expect(configOf(EXAMPLE_TEXT).commandOutput).toBeUndefined();
  });

  it('keeps optional snippet settings, taking a numeric maxConcurrency as text', () => {
    const config = configOf(
      exampleWith(
        [['snippets', 'disk', 'timeout'], 120],
        [['snippets', 'disk', 'maxConcurrency'], 10],
        [['snippets', 'disk', 'maxErrors'], '10%'],
      ),
    );
    expect(config.snippets.disk).toMatchObject({ timeout: 120, maxConcurrency: '10', maxErrors: '10%' });
  });
});
