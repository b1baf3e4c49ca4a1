import { formatConfigError } from '../../../src/config/problems';
import { type Change, exampleWith, ONE_ACCOUNT, problemsOf } from './example';

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
      changes: [...ONE_ACCOUNT, [['aws', 'partition'], 'aws-cn']],
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
