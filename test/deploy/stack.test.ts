// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders are literal ${…} text.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  alarmActions,
  checkParameterName,
  checkRegion,
  digestSchedule,
  accessRoleStacks,
  BOUNDARY_LOGICAL_ID,
  loadDeployConfig,
  PEOPLE_PER_STACK,
  type PolicyStatement,
  roleStatements,
} from '../../deploy/stack';
import { parseConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { ROOT, readTemplate } from './stack-files';

// How keyturn.yml shapes the stack (deploy/stack.ts), beyond the one example config the packaged
// template is built from.

function config(yaml: string): Config {
  const parsed = parseConfig(yaml, 'test.yml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

const BASE = `
aws: { accountId: "123456789012", region: eu-west-1 }
slack: { requestsChannel: C0APPROVALS, auditChannel: C0AUDIT }
digest: { at: "07:30", timezone: Europe/Berlin }
`;
const target = (tags: string, extra = '') =>
  `{ tags: ${tags}, defaultDuration: 30m, maxDuration: 1h, approvers: [U0CAROL]${extra} }`;

const PARAMETERS = { slackBotToken: '/k/bot', slackSigningSecret: '/k/signing' };
const sids = (statements: PolicyStatement[]) => statements.map((s) => s.Sid);

describe('roleStatements', () => {
  const twoFleets = config(`${BASE}
people:
  U0ALICE: { iamRole: ops-alice }
targets:
  web: ${target('{ Fleet: web, Env: prod }', ', runAs: deploy')}
  db: ${target('{ Fleet: db }')}
  lab: ${target('{ Fleet: lab }')}
snippets:
  uptime: { run: uptime, targets: [web, db] }
`);

  it('allows SendCommand per snippet target, each with all of its own tags, and not on other targets', () => {
    const sendCommand = roleStatements(twoFleets, PARAMETERS).filter(
      (s) => s.Action.includes('ssm:SendCommand') && s.Condition?.StringEquals,
    );
    expect(sendCommand.map((s) => [s.Sid, s.Condition])).toEqual([
      ['RunCommandOnTarget1Db', { StringEquals: { 'ssm:resourceTag/Fleet': 'db' } }],
      [
        'RunCommandOnTarget2Web',
        { StringEquals: { 'ssm:resourceTag/Fleet': 'web', 'ssm:resourceTag/Env': 'prod' } },
      ],
    ]);
  });

  it('names no person: access roles are covered by role/keyturn/people/* and the boundary condition', () => {
    const statements = roleStatements(twoFleets, PARAMETERS);
    expect(sids(statements)).toContain('AttachKeyturnPoliciesToAccessRoles');
    expect(sids(statements)).toContain('TagRunAsOnAccessRoles');
    expect(JSON.stringify(statements)).not.toContain('ops-alice');
    expect(sids(statements).filter((sid) => sid?.includes('Direct'))).toEqual([]);
  });

  it('names each attach: direct opt-in by its exact ARN, path included', () => {
    const direct = config(`${BASE}
people:
  U0ALICE: { iamUser: alice }
  U0ERIN: { iamUser: engineering/erin, attach: direct }
  U0FRED: { iamRole: fred, attach: direct }
targets:
  web: ${target('{ Fleet: web }', ', runAs: deploy')}
`);
    const statements = roleStatements(direct, PARAMETERS);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)?.Resource;
    expect(bySid('AttachKeyturnPoliciesToDirectUsers')).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user/engineering/erin' },
    ]);
    expect(bySid('AttachKeyturnPoliciesToDirectRoles')).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/fred' },
    ]);
    expect(bySid('TagRunAsOnDirectUsers')).toEqual(bySid('AttachKeyturnPoliciesToDirectUsers'));
    expect(JSON.stringify(statements)).not.toContain('alice');
  });

  it('grants no SendCommand without snippets and no tagging without runAs', () => {
    const plain = config(`${BASE}
people:
  U0ALICE: { iamUser: alice }
targets:
  web: ${target('{ Fleet: web }')}
`);
    const statements = roleStatements(plain, PARAMETERS);
    expect(statements.flatMap((s) => s.Action)).not.toContain('ssm:SendCommand');
    expect(statements.flatMap((s) => s.Action).filter((a) => /^iam:(Un)?Tag(User|Role)$/.test(a))).toEqual(
      [],
    );
  });

  it('reads only the two Slack parameters it is given', () => {
    const read = roleStatements(twoFleets, PARAMETERS).find((s) => s.Sid === 'ReadSlackSecrets');
    expect(read?.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/k/bot' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/k/signing' },
    ]);
  });
});

describe('access roles at scale (IAM and CloudFormation limits)', () => {
  const people = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const id = `U0P${String(i).padStart(5, '0')}`;
      // A mix of every identity kind.
      if (i % 3 === 0) return `  ${id}: { iamUser: team-${i % 7}/person-${i} }`;
      if (i % 3 === 1) return `  ${id}: { identityCenter: person-${i}@example.com }`;
      return `  ${id}: { iamRole: oncall, sessionName: person-${i} }`;
    }).join('\n');
  const withPeople = (n: number) =>
    config(`${BASE}
people:
${people(n)}
targets:
  web: ${target('{ Fleet: web, Env: prod }', ', runAs: deploy')}
  db: ${target('{ Fleet: db }', ', documents: [shell, ssh, port-forward]')}
snippets:
  uptime: { run: uptime, targets: [web, db] }
`);
  /** IAM counts a role policy's characters without whitespace (FACTS.md). */
  const chars = (value: unknown) => JSON.stringify(value).replace(/\s/g, '').length;
  // The main template's own resources, from the packaged stack (keyturn.example.yml, 4 people).
  const packaged = readTemplate();
  const ownResources = Object.keys(packaged.Resources).filter(
    (id) => id !== BOUNDARY_LOGICAL_ID && !id.startsWith('AccessRole'),
  ).length;

  it('keeps the functions’ role the same size for 5 people and for 500', () => {
    const five = roleStatements(withPeople(5), PARAMETERS);
    const many = roleStatements(withPeople(500), PARAMETERS);
    expect(many).toEqual(five);
    // Resolved ARNs are a little longer than their Fn::Sub templates; 2,000 characters of headroom.
    expect(chars(many)).toBeLessThan(10_240 - 2_000);
  });

  it(`puts up to ${PEOPLE_PER_STACK} access roles in the main stack, under 500 resources`, () => {
    const stacks = accessRoleStacks(withPeople(PEOPLE_PER_STACK));
    expect(stacks.people).toEqual([]);
    expect(ownResources + Object.keys(stacks.main).length).toBeLessThanOrEqual(500);
    expect(JSON.stringify(packaged).length + JSON.stringify(stacks.main).length).toBeLessThan(1_000_000);
  });

  it('moves 500 people’s access roles into people stacks of at most 400, each within every limit', () => {
    const stacks = accessRoleStacks(withPeople(500));
    expect(Object.keys(stacks.main)).toEqual([BOUNDARY_LOGICAL_ID]);
    expect(stacks.people.map((p) => Object.keys(p.Resources).length)).toEqual([400, 100]);
    const roles = stacks.people.flatMap((p) => Object.values(p.Resources));
    expect(new Set(roles.map((r) => r.Properties.RoleName)).size).toBe(500);
    for (const role of roles) {
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties.Path).toBe('/keyturn/people/');
      expect(role.Properties.PermissionsBoundary).toBe(
        'arn:aws:iam::123456789012:policy/keyturn-boundary/keyturn-access-boundary',
      );
      // Trust policies: IAM's default limit is 2,048 characters.
      expect(chars(role.Properties.AssumeRolePolicyDocument)).toBeLessThanOrEqual(2_048);
    }
    const boundary = stacks.main[BOUNDARY_LOGICAL_ID]!.Properties.PolicyDocument;
    expect(chars(boundary)).toBeLessThanOrEqual(6_144);
    // CloudFormation's template body limit through S3 (the main stack always goes through S3 too).
    for (const stack of stacks.people) expect(JSON.stringify(stack).length).toBeLessThan(1_000_000);
  });

  it('refuses a config whose boundary would outgrow a managed policy, saying why', () => {
    // The loader refuses such a config already (src/config/load.ts); the stack checks again.
    const base = withPeople(1);
    const web = base.targets.web!;
    const targets = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`t${i}`, { ...web, name: `t${i}`, tags: { Fleet: `f${i}` } }]),
    );
    expect(() => accessRoleStacks({ ...base, targets })).toThrow(
      /the access boundary would be \d+ characters, over IAM's 6144/,
    );
  });
});

describe('digestSchedule', () => {
  it('is a daily cron at digest.at, evaluated in digest.timezone (so it follows daylight saving)', () => {
    expect(digestSchedule(config(`${BASE}\npeople: {}\ntargets: {}\n`))).toEqual({
      expression: 'cron(30 7 * * ? *)',
      timezone: 'Europe/Berlin',
    });
  });
});

describe('deploy-time checks', () => {
  const example = config(`${BASE}\npeople: {}\ntargets: {}\n`);

  it('refuses a region other than the config’s aws.region', () => {
    expect(() => checkRegion(example, 'eu-west-1')).not.toThrow();
    expect(() => checkRegion(example, 'us-east-1')).toThrow(
      "region us-east-1 is not keyturn.yml's aws.region (eu-west-1)",
    );
  });

  it('wants fully qualified SecureString names (their ARNs are built from them)', () => {
    expect(checkParameterName('p', '/keyturn/prod/slack-bot-token')).toBe('/keyturn/prod/slack-bot-token');
    expect(() => checkParameterName('p', 'slack-bot-token')).toThrow('is not a fully qualified');
    expect(() => checkParameterName('p', '/keyturn/*')).toThrow('is not a fully qualified');
  });

  it('gives the alarms the alarmTopicArn param as their action, or none when it is unset', () => {
    expect(alarmActions('')).toEqual({ Ref: 'AWS::NoValue' });
    expect(alarmActions('arn:aws:sns:eu-west-1:123456789012:keyturn-alarms')).toEqual([
      'arn:aws:sns:eu-west-1:123456789012:keyturn-alarms',
    ]);
    expect(alarmActions('arn:aws-us-gov:sns:us-gov-west-1:123456789012:alarms.fifo')).toHaveLength(1);
    for (const bad of [
      'keyturn-alarms',
      'arn:aws:sqs:eu-west-1:123456789012:q',
      'arn:aws:sns:eu-west-1:1234:t',
    ]) {
      expect(() => alarmActions(bad)).toThrow(
        `alarmTopicArn: '${bad}' is not an SNS topic ARN like arn:aws:sns:`,
      );
    }
  });

  it('bundles only a config inside the service directory', () => {
    const log = () => undefined;
    expect(
      loadDeployConfig({ serviceDir: ROOT, env: { KEYTURN_CONFIG: 'keyturn.example.yml' }, log }),
    ).toEqual(expect.objectContaining({ configFile: 'keyturn.example.yml' }));
    const outside = path.join(mkdtempSync(path.join(tmpdir(), 'keyturn-')), 'keyturn.yml');
    copyFileSync(path.join(ROOT, 'keyturn.example.yml'), outside);
    expect(() => loadDeployConfig({ serviceDir: ROOT, env: { KEYTURN_CONFIG: outside }, log })).toThrow(
      'the config is bundled with the functions, so it must be inside',
    );
  });
});

describe('osls stage and region parameters', () => {
  function print(...args: string[]) {
    return spawnSync(
      process.execPath,
      [require.resolve('osls/bin/serverless.js'), 'print', '--format', 'json', ...args],
      { cwd: ROOT, env: { ...process.env, KEYTURN_CONFIG: 'keyturn.example.yml' }, encoding: 'utf8' },
    );
  }

  it('--stage names the table and the default parameter names; --param overrides a name', () => {
    const run = print('--stage', 'qa', '--param=slackBotTokenParameter=/team/qa/bot');
    expect(run.status).toBe(0);
    const printed = JSON.parse(run.stdout);
    expect(printed.provider.stage).toBe('qa');
    expect(printed.custom.keyturn).toMatchObject({
      tableName: 'keyturn-qa',
      slackBotTokenParameter: '/team/qa/bot',
      slackSigningSecretParameter: '/keyturn/qa/slack-signing-secret',
    });
    expect(printed.provider.environment.SLACK_BOT_TOKEN_PARAM).toBe('/team/qa/bot');
  });

  it("--param alarmTopicArn becomes both alarms' action; a value that is no topic ARN stops packaging", () => {
    const topic = 'arn:aws:sns:ap-northeast-1:123456789012:keyturn-alarms';
    const run = print(`--param=alarmTopicArn=${topic}`);
    expect(run.status).toBe(0);
    const { Resources } = JSON.parse(run.stdout).resources;
    expect(Resources.DeadLetterQueueAlarm.Properties.AlarmActions).toEqual([topic]);
    expect(Resources.WorkerErrorsAlarm.Properties.AlarmActions).toEqual([topic]);
    const bad = print('--param=alarmTopicArn=keyturn-alarms');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain("alarmTopicArn: 'keyturn-alarms' is not an SNS topic ARN");
  });

  it('--region must be the region of keyturn.yml', () => {
    const run = print('--region', 'us-east-1');
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(
      "region us-east-1 is not keyturn.yml's aws.region (ap-northeast-1)",
    );
  });
});
