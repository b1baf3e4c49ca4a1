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
  loadDeployConfig,
  type PolicyStatement,
  roleStatements,
} from '../../deploy/stack';
import { parseConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { ROOT } from './stack-files';

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
    const sendCommand = roleStatements(twoFleets, PARAMETERS).filter((s) => s.Condition?.StringEquals);
    expect(sendCommand.map((s) => [s.Sid, s.Condition])).toEqual([
      ['RunCommandOnTarget1Db', { StringEquals: { 'ssm:resourceTag/Fleet': 'db' } }],
      [
        'RunCommandOnTarget2Web',
        { StringEquals: { 'ssm:resourceTag/Fleet': 'web', 'ssm:resourceTag/Env': 'prod' } },
      ],
    ]);
  });

  it('names only the principal kinds that are mapped', () => {
    const statements = roleStatements(twoFleets, PARAMETERS);
    expect(sids(statements)).toContain('AttachKeyturnPoliciesToMappedRoles');
    expect(sids(statements)).toContain('RunAsTagOnMappedRoles');
    expect(sids(statements)).not.toContain('AttachKeyturnPoliciesToMappedUsers');
    expect(sids(statements)).not.toContain('RunAsTagOnMappedUsers');
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
      { 'Fn::Sub': 'arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/k/bot' },
      { 'Fn::Sub': 'arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/k/signing' },
    ]);
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
