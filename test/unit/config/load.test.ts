import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigLoadError, EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../../../src/config/load';
import { type ConfigError, formatConfigError } from '../../../src/config/problems';
import type { Config } from '../../../src/config/types';
import { checkValue } from '../../../src/domain/snippet';

const EXAMPLE_TEXT = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8');

type Path = readonly (string | number)[];
/** A change to the example config: set the value at `path`, or delete the key when the value is undefined. */
type Change = readonly [Path, unknown];

function exampleWith(...changes: Change[]): string {
  const doc: unknown = parse(EXAMPLE_TEXT);
  for (const [at, value] of changes) {
    let node = doc as Record<string | number, unknown>;
    for (const segment of at.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
    const last = at[at.length - 1]!;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return stringify(doc);
}

function problemsOf(text: string): ConfigError {
  const result = parseConfig(text, 'keyturn.yml');
  if (result.ok) throw new Error('expected the config to be rejected, but it loaded');
  return result.error;
}

function configOf(text: string): Config {
  const result = parseConfig(text, 'keyturn.yml');
  if (!result.ok) throw new Error(`expected the config to load:\n${formatConfigError(result.error)}`);
  return result.value;
}

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
    expect(configOf(exampleWith([['aws', 'region'], region])).aws.partition).toBe(partition);
  });

  it('fills target names, durations in minutes and defaults', () => {
    expect(config.targets['prod-raspi']).toEqual({
      name: 'prod-raspi',
      description: 'Production Raspberry Pi fleet',
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
    expect(config.aws).toEqual({ accountId: '123456789012', region: 'ap-northeast-1', partition: 'aws' });
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
    expect(fleet.filter((n) => n.tags.Fleet !== 'prod-raspi' && n.tags.Fleet !== 'staging-web')).toHaveLength(
      1,
    );
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

describe('parseConfig: rejections name the key, the value and the rule', () => {
  const prod = ['targets', 'prod-raspi'] as const;
  const logs = ['snippets', 'logs'] as const;
  const cases: { name: string; changes: Change[]; problems: { path: string; message: RegExp }[] }[] = [
    {
      name: 'tag key with *',
      changes: [[[...prod, 'tags'], { 'Fl*eet': 'prod-raspi' }]],
      problems: [
        { path: 'targets.prod-raspi.tags["Fl*eet"]', message: /^'Fl\*eet' contains the wildcard '\*'/ },
      ],
    },
    {
      name: 'tag value with ?',
      changes: [[[...prod, 'tags', 'Fleet'], 'prod-?']],
      problems: [{ path: 'targets.prod-raspi.tags.Fleet', message: /^'prod-\?' contains the wildcard '\?'/ }],
    },
    {
      name: 'tag value with a double quote',
      changes: [[[...prod, 'tags', 'Fleet'], 'prod"raspi']],
      problems: [{ path: 'targets.prod-raspi.tags.Fleet', message: /^'prod"raspi' contains the quote '"'/ }],
    },
    {
      name: 'tag key with a single quote',
      changes: [[[...prod, 'tags'], { "Fleet's": 'prod-raspi' }]],
      problems: [
        { path: `targets.prod-raspi.tags["Fleet's"]`, message: /contains the quote "'"; tag keys may not/ },
      ],
    },
    {
      name: 'tag value with a control character (shown escaped)',
      changes: [[[...prod, 'tags', 'Fleet'], 'prod\u0007raspi']],
      problems: [
        {
          path: 'targets.prod-raspi.tags.Fleet',
          message: /^'prod\\u0007raspi' contains a control character \(U\+0007\)/,
        },
      ],
    },
    {
      name: 'tag key in the aws: namespace',
      changes: [[[...prod, 'tags'], { 'aws:cloudformation:stack-name': 'x' }]],
      problems: [{ path: 'targets.prod-raspi.tags["aws:cloudformation:stack-name"]', message: /reserves/ }],
    },
    {
      name: 'tag value with an IAM policy variable',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text ${…} is what must be refused.
      changes: [[[...prod, 'tags', 'Fleet'], '${aws:username}']],
      problems: [{ path: 'targets.prod-raspi.tags.Fleet', message: /^'\$\{aws:username\}' contains '\$\{'/ }],
    },
    {
      name: 'tag key __proto__, which a JS object would silently drop',
      changes: [[[...prod, 'tags'], JSON.parse('{"Fleet": "prod-raspi", "__proto__": "x"}')]],
      problems: [{ path: 'targets.prod-raspi.tags.__proto__', message: /^is a key keyturn.yml cannot use$/ }],
    },
    {
      name: 'target without tags',
      changes: [[[...prod, 'tags'], {}]],
      problems: [{ path: 'targets.prod-raspi.tags', message: /^\{\} has no tags; .* every node/ }],
    },
    {
      name: 'maxDuration over 12h',
      changes: [[[...prod, 'maxDuration'], '13h']],
      problems: [{ path: 'targets.prod-raspi.maxDuration', message: /^'13h' is longer than 12h/ }],
    },
    {
      name: 'defaultDuration over maxDuration',
      changes: [[[...prod, 'defaultDuration'], '5h']],
      problems: [
        { path: 'targets.prod-raspi.defaultDuration', message: /^'5h' is longer than maxDuration \(4h\)$/ },
      ],
    },
    {
      name: 'duration given as a bare number',
      changes: [[[...prod, 'defaultDuration'], 90]],
      problems: [{ path: 'targets.prod-raspi.defaultDuration', message: /^90 is not a duration like 30m/ }],
    },
    {
      name: 'unknown document kind',
      changes: [
        [
          [...prod, 'documents'],
          ['shell', 'rdp'],
        ],
      ],
      problems: [
        { path: 'targets.prod-raspi.documents[1]', message: /^'rdp' is not a session document kind/ },
      ],
    },
    {
      name: 'empty approvers',
      changes: [[[...prod, 'approvers'], []]],
      problems: [
        { path: 'targets.prod-raspi.approvers', message: /^\[\] is empty; list at least one approver$/ },
      ],
    },
    {
      name: 'approver that is not a Slack id',
      changes: [
        [
          [...prod, 'approvers'],
          ['U0CAROL', 'carol'],
        ],
      ],
      problems: [{ path: 'targets.prod-raspi.approvers[1]', message: /^'carol' is not a Slack user id/ }],
    },
    {
      name: 'the same approver twice',
      changes: [
        [
          ['targets', 'staging-web', 'approvers'],
          ['U0CAROL', 'U0CAROL'],
        ],
      ],
      problems: [{ path: 'targets.staging-web.approvers[1]', message: /^'U0CAROL' is listed twice/ }],
    },
    {
      name: 'more approvals than user approvers',
      changes: [[['targets', 'staging-web', 'approvals'], 3]],
      problems: [
        { path: 'targets.staging-web.approvals', message: /^3 is more than the 2 approvers listed/ },
      ],
    },
    {
      name: 'unknown top-level key (typo)',
      changes: [[['snippet'], {}]],
      problems: [{ path: 'snippet', message: /^is not a known key; did you mean 'snippets'\?$/ }],
    },
    {
      name: 'unknown nested key (typo)',
      changes: [[[...prod, 'maxDurration'], '2h']],
      problems: [
        {
          path: 'targets.prod-raspi.maxDurration',
          message: /^is not a known key; did you mean 'maxDuration'\?$/,
        },
      ],
    },
    {
      name: 'required key missing',
      changes: [[['slack', 'auditChannel'], undefined]],
      problems: [{ path: 'slack.auditChannel', message: /^is required$/ }],
    },
    {
      name: 'audit events neither all nor anomalies',
      changes: [[['slack', 'auditEvents'], 'everything']],
      problems: [{ path: 'slack.auditEvents', message: /^'everything' is not one of all, anomalies/ }],
    },
    {
      name: 'channel name instead of channel id',
      changes: [[['slack', 'requestsChannel'], '#ops-approvals']],
      problems: [{ path: 'slack.requestsChannel', message: /^'#ops-approvals' is not a Slack channel id/ }],
    },
    {
      name: 'account id as a YAML number',
      changes: [[['aws', 'accountId'], 123456789012]],
      problems: [{ path: 'aws.accountId', message: /^123456789012 is a number; quote the account id/ }],
    },
    {
      name: 'person with both iamUser and iamRole',
      changes: [[['people', 'U0BOB'], { iamUser: 'bob', iamRole: 'oncall-bob' }]],
      problems: [
        { path: 'people.U0BOB', message: /^sets iamUser and iamRole; map each Slack user to exactly one/ },
      ],
    },
    {
      name: 'person with neither iamUser nor iamRole',
      changes: [[['people', 'U0BOB'], {}]],
      problems: [{ path: 'people.U0BOB', message: /^sets none of iamUser, identityCenter, iamRole/ }],
    },
    {
      name: 'an Identity Center permission-set role named as iamRole',
      changes: [[['people', 'U0BOB'], { iamRole: 'AWSReservedSSO_Admin_0123456789abcdef' }]],
      problems: [
        {
          path: 'people.U0BOB.iamRole',
          message:
            /is an IAM Identity Center permission-set role, which IAM will not let Keyturn attach to .*identityCenter/,
        },
      ],
    },
    {
      name: 'direct attach to an AWSReservedSSO_ role',
      changes: [
        [['people', 'U0BOB'], { iamRole: 'AWSReservedSSO_Admin_0123456789abcdef', attach: 'direct' }],
      ],
      problems: [{ path: 'people.U0BOB.iamRole', message: /permission-set role/ }],
    },
    {
      name: 'direct attach for an Identity Center user',
      changes: [[['people', 'U0BOB'], { identityCenter: 'bob@example.com', attach: 'direct' }]],
      problems: [{ path: 'people.U0BOB.attach', message: /UnmodifiableEntity/ }],
    },
    {
      name: 'direct attach to a shared role',
      changes: [[['people', 'U0BOB'], { iamRole: 'oncall', sessionName: 'bob', attach: 'direct' }]],
      problems: [{ path: 'people.U0BOB.attach', message: /reaches everyone who assumes it/ }],
    },
    {
      name: 'attach other than direct',
      changes: [[['people', 'U0BOB'], { iamUser: 'bob', attach: 'own' }]],
      problems: [{ path: 'people.U0BOB.attach', message: /is not 'direct'/ }],
    },
    {
      name: 'sessionName without iamRole',
      changes: [[['people', 'U0BOB'], { iamUser: 'bob', sessionName: 'bob' }]],
      problems: [{ path: 'people.U0BOB.sessionName', message: /^sets sessionName without iamRole/ }],
    },
    {
      name: 'two people in one role without session names',
      changes: [
        [['people', 'U0BOB'], { iamRole: 'oncall' }],
        [['people', 'U0CAROL'], { iamRole: 'oncall' }],
      ],
      problems: [
        { path: 'people.U0BOB', message: /also use; a shared role needs a sessionName per person/ },
        { path: 'people.U0CAROL', message: /also use; a shared role needs a sessionName per person/ },
      ],
    },
    {
      name: 'two people mapped to one IAM user',
      changes: [[['people', 'U0BOB'], { iamUser: 'alice' }]],
      problems: [{ path: 'people.U0BOB', message: /is the same IAM user alice as U0ALICE/ }],
    },
    {
      name: 'a partition that is not the region’s',
      changes: [[['aws', 'partition'], 'aws-cn']],
      problems: [{ path: 'aws.partition', message: /is not the partition of region ap-northeast-1 \(aws\)/ }],
    },
    {
      name: 'person keyed by a name instead of a Slack id',
      changes: [[['people', 'bob'], { iamUser: 'bob' }]],
      problems: [{ path: 'people.bob', message: /^'bob' is not a Slack user id/ }],
    },
    {
      name: 'target name with capitals',
      changes: [
        [
          ['targets', 'Prod'],
          { tags: { Fleet: 'x' }, defaultDuration: '1h', maxDuration: '1h', approvers: ['U0CAROL'] },
        ],
      ],
      problems: [{ path: 'targets.Prod', message: /^'Prod' is not a target name/ }],
    },
    {
      name: 'snippet using an undeclared {{x}}',
      changes: [[['snippets', 'disk', 'run'], 'df -h {{x}}']],
      problems: [
        {
          path: 'snippets.disk.run',
          message: /^'df -h \{\{x\}\}' uses \{\{x\}\}, which params does not declare$/,
        },
      ],
    },
    {
      name: 'snippet declaring a param it never uses',
      changes: [[[...logs, 'run'], 'journalctl -u {{service}} --no-pager']],
      problems: [
        { path: 'snippets.logs.params.lines', message: /^is declared but run never uses \{\{lines\}\}$/ },
      ],
    },
    {
      name: 'placeholder with spaces, which would stay literal',
      changes: [[['snippets', 'disk', 'run'], 'df -h {{ x }}']],
      problems: [
        {
          path: 'snippets.disk.run',
          message: /contains \{\{ x \}\}, which is not a placeholder like \{\{name\}\}$/,
        },
      ],
    },
    {
      name: 'maxConcurrency of 0',
      changes: [[['snippets', 'disk', 'maxConcurrency'], 0]],
      problems: [{ path: 'snippets.disk.maxConcurrency', message: /^0 is not a node count or percentage/ }],
    },
    {
      name: 'YAML 1.1 style boolean',
      changes: [[['snippets', 'disk', 'approval'], 'yes']],
      problems: [{ path: 'snippets.disk.approval', message: /^'yes' is not true or false$/ }],
    },
    {
      name: 'param default not matching its pattern',
      changes: [[[...logs, 'params', 'lines', 'default'], 'all']],
      problems: [
        { path: 'snippets.logs.params.lines.default', message: /^'all' does not match its own pattern/ },
      ],
    },
    {
      name: 'param pattern without ^',
      changes: [[[...logs, 'params', 'service', 'pattern'], '[a-z]+$']],
      problems: [
        { path: 'snippets.logs.params.service.pattern', message: /^'\[a-z\]\+\$' does not start with \^/ },
      ],
    },
    {
      name: 'param pattern without $',
      changes: [[[...logs, 'params', 'service', 'pattern'], '^[a-z]+']],
      problems: [{ path: 'snippets.logs.params.service.pattern', message: /does not end with \$/ }],
    },
    {
      name: 'param pattern ending in an escaped \\$',
      changes: [[[...logs, 'params', 'service', 'pattern'], '^[a-z]+\\$']],
      problems: [{ path: 'snippets.logs.params.service.pattern', message: /does not end with \$/ }],
    },
    {
      name: 'param pattern anchored only on one side of a top-level |',
      changes: [[[...logs, 'params', 'service', 'pattern'], '^ssh|cron$']],
      problems: [{ path: 'snippets.logs.params.service.pattern', message: /has a top-level \|/ }],
    },
    {
      name: 'param pattern that does not compile',
      changes: [[[...logs, 'params', 'service', 'pattern'], '^[a-z$']],
      problems: [
        {
          path: 'snippets.logs.params.service.pattern',
          message: /is not a valid JavaScript regular expression/,
        },
      ],
    },
    {
      name: 'snippet on a target that is not defined',
      changes: [[['snippets', 'disk', 'targets'], ['prod-raspy']]],
      problems: [
        {
          path: 'snippets.disk.targets[0]',
          message: /^'prod-raspy' is not a target defined under targets; did you mean 'prod-raspi'\?$/,
        },
      ],
    },
    {
      name: 'bad timezone',
      changes: [[['digest', 'timezone'], 'Asia/Tokio']],
      problems: [{ path: 'digest.timezone', message: /^'Asia\/Tokio' is not an IANA time zone/ }],
    },
    {
      name: 'digest time past 23:59',
      changes: [[['digest', 'at'], '24:00']],
      problems: [{ path: 'digest.at', message: /^'24:00' is not a 24-hour time like 09:00$/ }],
    },
    {
      name: 'digest time in 12-hour form',
      changes: [[['digest', 'at'], '9am']],
      problems: [{ path: 'digest.at', message: /^'9am' is not a 24-hour time/ }],
    },
    {
      name: 'sandbox node id that is neither i- nor mi-',
      changes: [[['sandbox', 'fleet', 0, 'id'], 'mi-123']],
      problems: [{ path: 'sandbox.fleet[0].id', message: /^'mi-123' is not a node id/ }],
    },
    {
      name: 'two sandbox nodes with the same id',
      changes: [[['sandbox', 'fleet', 1, 'id'], 'mi-0a1b2c3d4e5f60001']],
      problems: [{ path: 'sandbox.fleet[1].id', message: /is used by another node/ }],
    },
    {
      name: 'a target named like an /access subcommand',
      changes: [
        [
          ['targets', 'list'],
          { tags: { Fleet: 'x' }, defaultDuration: '1h', maxDuration: '1h', approvers: ['U0CAROL'] },
        ],
      ],
      problems: [{ path: 'targets.list', message: /is an \/access subcommand/ }],
    },
    {
      name: 'maxTotal shorter than maxDuration',
      changes: [[[...prod, 'maxTotal'], '2h']],
      problems: [
        { path: 'targets.prod-raspi.maxTotal', message: /^'2h' is shorter than maxDuration \(4h\)/ },
      ],
    },
    {
      name: 'warnBefore that is not a duration',
      changes: [[[...prod, 'warnBefore'], 'soon']],
      problems: [{ path: 'targets.prod-raspi.warnBefore', message: /^'soon' is not a duration/ }],
    },
    {
      name: 'sandbox user group member that is not a Slack user id',
      changes: [[['sandbox', 'userGroups', 'S0SREGROUP'], ['dave']]],
      problems: [{ path: 'sandbox.userGroups.S0SREGROUP[0]', message: /^'dave' is not/ }],
    },
    // Run Command (issue 4)
    {
      name: 'runner who is not mapped under people',
      changes: [
        [
          [...prod, 'runners'],
          ['U0DAVE', 'U0ERIN'],
        ],
      ],
      problems: [
        {
          path: 'targets.prod-raspi.runners[1]',
          message: /^'U0ERIN' is not mapped under people; map every runner/,
        },
      ],
    },
    {
      name: 'runner that is a user group',
      changes: [[[...prod, 'runners'], ['S0SREGROUP']]],
      problems: [{ path: 'targets.prod-raspi.runners[0]', message: /^'S0SREGROUP' is not a Slack user id/ }],
    },
    {
      name: 'the same runner twice',
      changes: [
        [
          [...prod, 'runners'],
          ['U0DAVE', 'U0DAVE'],
        ],
      ],
      problems: [{ path: 'targets.prod-raspi.runners[1]', message: /is listed twice in runners/ }],
    },
    {
      name: 'placeholder inside double quotes, where $(…) in a value would still run',
      changes: [[[...logs, 'run'], 'journalctl -u "{{service}}" -n {{lines}}']],
      problems: [{ path: 'snippets.logs.run', message: /^puts \{\{service\}\} inside double quotes/ }],
    },
    {
      name: 'placeholder inside single quotes',
      changes: [[[...logs, 'run'], "journalctl -u '{{service}}' -n {{lines}}"]],
      problems: [{ path: 'snippets.logs.run', message: /^puts \{\{service\}\} inside single quotes/ }],
    },
    {
      // Issue 11 point 7: msg=\'; id; echo pwned ' rendered as $'\'\''; id; …' and bash ran `id`.
      name: "placeholder right after $, which bash reads as ANSI-C quoting $'…'",
      changes: [
        [
          ['snippets', 'wall'],
          {
            description: 'Broadcast a message',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the run line under test, not a template string.
            run: 'wall ${{msg}}',
            targets: ['prod-raspi'],
            params: { msg: { pattern: '^[\\s\\S]{1,200}$' } },
          },
        ],
      ],
      problems: [
        {
          path: 'snippets.wall.run',
          message:
            /^puts \{\{msg\}\} right after \$, .*; write \{\{msg\}\} without the \$, or '\$'\{\{msg\}\}/,
        },
      ],
    },
    {
      name: "placeholder inside arithmetic, where a value's $(…) runs whatever the quoting",
      changes: [[[...logs, 'run'], 'journalctl -u {{service}} -n $(( {{lines}} + 1 ))']],
      problems: [{ path: 'snippets.logs.run', message: /^puts \{\{lines\}\} inside arithmetic/ }],
    },
    {
      name: 'placeholder in a here-document',
      changes: [[[...logs, 'run'], 'cat <<EOF\n{{service}} {{lines}}\nEOF']],
      problems: [{ path: 'snippets.logs.run', message: /^uses a here-document/ }],
    },
    {
      name: 'snippet on a target with more tags than Run Command takes',
      changes: [[[...prod, 'tags'], { A: '1', B: '2', C: '3', D: '4', E: '5', F: '6' }]],
      problems: [
        {
          path: 'snippets.disk.targets[0]',
          message: /names a target with 6 tags; Run Command can select nodes by at most 5/,
        },
        { path: 'snippets.logs.targets[0]', message: /names a target with 6 tags/ },
        { path: 'snippets.restart-agent.targets[0]', message: /names a target with 6 tags/ },
      ],
    },
    {
      name: 'deliveryTimeout under 30 seconds',
      changes: [[['snippets', 'disk', 'deliveryTimeout'], 10]],
      problems: [{ path: 'snippets.disk.deliveryTimeout', message: /^10 is under 30 seconds/ }],
    },
    {
      name: 'commandOutput bucket that is not an S3 bucket name',
      changes: [[['commandOutput'], { s3Bucket: 'My_Bucket' }]],
      problems: [{ path: 'commandOutput.s3Bucket', message: /^'My_Bucket' is not an S3 bucket name/ }],
    },
    {
      name: 'commandOutput key that does not exist',
      changes: [[['commandOutput'], { s3bucket: 'out' }]],
      problems: [{ path: 'commandOutput.s3bucket', message: /did you mean 's3Bucket'/ }],
    },
  ];

  it.each(cases)('$name', ({ changes, problems }) => {
    const error = problemsOf(exampleWith(...changes));
    expect(error.source).toBe('keyturn.yml');
    expect(error.problems).toEqual(
      problems.map((p) =>
        expect.objectContaining({ path: p.path, message: expect.stringMatching(p.message) }),
      ),
    );
  });

  it('formats a bad duration as one line with the file, key, value and rule', () => {
    const error = problemsOf(exampleWith([[...prod, 'maxDuration'], '5x']));
    expect(formatConfigError(error)).toBe(
      "keyturn.yml: targets.prod-raspi.maxDuration: '5x' is not a duration like 30m, 1h, 2h30m or 90m",
    );
    expect(error.problems[0]?.value).toBe('5x');
  });

  it('reports every problem at once, including cross-references', () => {
    const error = problemsOf(
      exampleWith(
        [[...prod, 'maxDuration'], '5x'],
        [['targets', 'staging-web', 'approvals'], 3],
        [['digest', 'timezone'], 'Mars/Olympus'],
        [['snippets', 'disk', 'targets'], ['nowhere']],
        [['people', 'U0BOB'], {}],
      ),
    );
    expect(error.problems.map((p) => p.path).sort()).toEqual(
      [
        'digest.timezone',
        'people.U0BOB',
        'snippets.disk.targets[0]',
        'targets.prod-raspi.maxDuration',
        'targets.staging-web.approvals',
      ].sort(),
    );
    expect(formatConfigError(error).split('\n')).toHaveLength(5);
  });

  it('never prints a value under a key named like a secret', () => {
    // A param called `password` with a default that fails its pattern: the default must not reach the log.
    const error = problemsOf(
      exampleWith(
        [[...logs, 'params', 'password'], { pattern: '^[0-9]+$', default: 'hunter2' }],
        [[...logs, 'run'], 'journalctl -u {{service}} -n {{lines}} {{password}}'],
      ),
    );
    const text = formatConfigError(error);
    expect(text).toContain('snippets.logs.params.password.default:');
    expect(text).toContain('does not match its own pattern');
    expect(text).not.toContain('hunter2');
    expect(JSON.stringify(error.problems)).not.toContain('hunter2');
  });

  it('truncates long values', () => {
    const long = `${'x'.repeat(500)}`;
    const error = problemsOf(exampleWith([['slack', 'auditChannel'], long]));
    const line = formatConfigError(error);
    expect(line).toContain('slack.auditChannel:');
    expect(line).not.toContain(long);
    expect(line.length).toBeLessThan(200);
  });
});

describe('parseConfig: YAML and file-level problems', () => {
  it('reports a YAML syntax error with its line and column', () => {
    const text = 'aws:\n  accountId: "123456789012"\n  region: [ap-northeast-1\nslack: {}\n';
    const error = problemsOf(text);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(formatConfigError(error)).toMatch(/^keyturn\.yml: YAML syntax error at line [34], column \d+/);
  });

  it('reports a key given twice with its line', () => {
    const text = EXAMPLE_TEXT.replace(
      '  U0BOB: { iamUser: bob }\n',
      '  U0BOB: { iamUser: bob }\n  U0BOB: { iamUser: eve }\n',
    );
    const line = text.split('\n').findIndex((l) => l.includes('iamUser: eve')) + 1;
    const error = problemsOf(text);
    expect(error.problems).toEqual([
      {
        path: '',
        message: expect.stringMatching(new RegExp(`^YAML syntax error at line ${line}, .*unique`)),
      },
    ]);
  });

  it('reports an empty file as such', () => {
    expect(problemsOf('').problems).toEqual([
      expect.objectContaining({ path: '', message: expect.stringMatching(/the file is empty/) }),
    ]);
  });
});

describe('loadConfig', () => {
  let dir: string;
  const logs: string[] = [];
  const log = (msg: string) => logs.push(msg);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keyturn-config-'));
    logs.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file KEYTURN_CONFIG names, relative to cwd', () => {
    mkdirSync(path.join(dir, 'conf'));
    writeFileSync(path.join(dir, 'conf', 'mine.yml'), exampleWith([['digest', 'timezone'], 'Europe/Paris']));
    const config = loadConfig({ env: { KEYTURN_CONFIG: 'conf/mine.yml' }, cwd: dir, log });
    expect(config.digest.timezone).toBe('Europe/Paris');
    expect(logs).toEqual([]);
  });

  it('reads keyturn.yml in cwd when KEYTURN_CONFIG is unset', () => {
    writeFileSync(path.join(dir, 'keyturn.yml'), exampleWith([['aws', 'region'], 'eu-central-1']));
    expect(loadConfig({ env: {}, cwd: dir, log }).aws.region).toBe('eu-central-1');
    expect(logs).toEqual([]);
  });

  it('throws CONFIG_NOT_FOUND naming the path when KEYTURN_CONFIG points nowhere', () => {
    const missing = path.join(dir, 'nope.yml');
    // Even with a keyturn.yml present: an explicit setting must never fall back silently.
    writeFileSync(path.join(dir, 'keyturn.yml'), EXAMPLE_TEXT);
    const load = () => loadConfig({ env: { KEYTURN_CONFIG: missing }, cwd: dir, log });
    expect(load).toThrow(ConfigLoadError);
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG_NOT_FOUND', name: 'ConfigLoadError' }));
    expect(load).toThrow(missing);
  });

  it('falls back to the shipped example and says so', () => {
    const config = loadConfig({ env: {}, cwd: dir, log });
    expect(config.targets).toHaveProperty('prod-raspi');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(EXAMPLE_CONFIG_PATH);
    expect(logs[0]).toContain('keyturn.yml');
  });

  it('throws CONFIG_INVALID with every problem when the file is invalid', () => {
    writeFileSync(
      path.join(dir, 'keyturn.yml'),
      exampleWith([['targets', 'prod-raspi', 'maxDuration'], '5x']),
    );
    let thrown: unknown;
    try {
      loadConfig({ env: {}, cwd: dir, log });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigLoadError);
    const error = thrown as ConfigLoadError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.name).toBe('ConfigLoadError');
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'targets.prod-raspi.maxDuration', value: '5x' }),
    ]);
    // The file is under cwd, so it is named as the operator would type it.
    expect(error.message).toBe(
      "keyturn.yml: targets.prod-raspi.maxDuration: '5x' is not a duration like 30m, 1h, 2h30m or 90m",
    );
  });
});
