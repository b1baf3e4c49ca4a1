// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders are literal ${…} text.
import { tableDefinition } from '../../src/adapters/dynamodb/table';
import { loadConfig } from '../../src/config/load';
import { classifyInvocation } from '../../src/domain/command-run';
import { RUN_SHELL_DOCUMENT } from '../../src/ports/command-runner';
import { jobRetryDelaySeconds } from '../../src/domain/job-retry';
import { REGION, resolveIntrinsics } from './intrinsics';
import { FUNCTIONS, ROOT, readTemplate } from './stack-files';

// The packaged CloudFormation template (stage dev, keyturn.example.yml): the stack is complete.

const template = readTemplate();
const resources = template.Resources;
const config = loadConfig({
  env: { KEYTURN_CONFIG: 'keyturn.example.yml' },
  cwd: ROOT,
  log: () => undefined,
});
const logicalId = (fn: string) => `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`;
const fnArn = (fn: string) => ({ 'Fn::GetAtt': [logicalId(fn), 'Arn'] });
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('functions', () => {
  it.each(FUNCTIONS)('%s runs on nodejs22.x, arm64, under the one least-privilege role', (fn) => {
    const props = resources[logicalId(fn)]!.Properties;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Role).toEqual({ 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] });
    const file = fn.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    expect(props.Handler).toBe(`handlers/${file}.handler`);
  });

  it.each(FUNCTIONS)(
    '%s gets secret parameter names, never secret values, and finds the bundled config',
    (fn) => {
      const env = resources[logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> };
      const vars = env.Variables;
      expect(vars).not.toHaveProperty('SLACK_BOT_TOKEN');
      expect(vars).not.toHaveProperty('SLACK_SIGNING_SECRET');
      expect(vars).not.toHaveProperty('SLACK_APP_TOKEN');
      expect(vars.SLACK_BOT_TOKEN_PARAM).toBe('/keyturn/dev/slack-bot-token');
      expect(vars.SLACK_SIGNING_SECRET_PARAM).toBe('/keyturn/dev/slack-signing-secret');
      expect(JSON.stringify(vars)).not.toMatch(/xox[abp]-/);
      // keyturn.yml, validated at package time, as the JSON the functions read (src/config/compiled.ts).
      expect(vars).not.toHaveProperty('KEYTURN_CONFIG');
      expect(vars.KEYTURN_CONFIG_JSON).toBe('.keyturn-package/config.json');
      expect(vars.KEYTURN_TABLE).toEqual({ Ref: 'KeyturnTable' });
      expect(vars.KEYTURN_QUEUE_URL).toEqual({ Ref: 'JobQueue' });
      expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
    },
  );
});

describe('concurrency', () => {
  const reserved = (fn: string) => resources[logicalId(fn)]!.Properties.ReservedConcurrentExecutions;

  it('caps the public slack function, so a flood cannot take the whole account', () => {
    expect(reserved('slack')).toBe(20);
  });

  it('reserves executions for the worker and the sweeper, so grants still apply and expire during a flood', () => {
    expect(reserved('worker')).toBe(5);
    expect(reserved('sweeper')).toBe(2);
  });

  it('polls the job queue with no more concurrency than the worker has reserved (no throttled batches)', () => {
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping')[0]!;
    expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: reserved('worker') });
  });

  it('leaves the other functions in the unreserved pool, and the total well inside an account of 1,000', () => {
    for (const fn of ['digest', 'sessionEvents', 'commandEvents']) expect(reserved(fn)).toBeUndefined();
    const total = FUNCTIONS.reduce((sum, fn) => sum + ((reserved(fn) as number | undefined) ?? 0), 0);
    // Lambda refuses a reservation that leaves fewer than 100 unreserved executions (docs/deploy.md).
    expect(total).toBe(27);
  });
});

describe('events', () => {
  it('slack: HTTP API POST /slack/events, and its URL is a stack output', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).toEqual(['POST /slack/events']);
    const [, integration] = ofType('AWS::ApiGatewayV2::Integration')[0]!;
    expect(integration.Properties.IntegrationUri).toEqual(fnArn('slack'));
    expect(template.Outputs.SlackRequestUrl!.Value).toEqual({
      'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/slack/events',
    });
  });

  it("outputs the grantor template's parameters: the functions' role ARN and the home event bus", () => {
    expect(template.Outputs.FunctionsRoleArn!.Value).toEqual({
      'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'],
    });
    expect(template.Outputs.EventBusArn!.Value).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
    });
    // deploy/access-roles-plugin.js defaults the grantor template's KeyturnFunctionsRoleArn from this
    // name, with the stack's region in place of the Ref: it must stay literals and AWS::Region.
    expect(resources.IamRoleLambdaExecution!.Properties.RoleName).toEqual({
      'Fn::Join': ['-', ['keyturn', 'dev', { Ref: 'AWS::Region' }, 'lambdaRole']],
    });
    expect(resolveIntrinsics(template, resources.IamRoleLambdaExecution!.Properties.RoleName)).toBe(
      `keyturn-dev-${REGION}-lambdaRole`,
    );
  });

  it("lets the example's one member account put events on the home bus, and no other account", () => {
    // Without member accounts there is no bus policy at all (test/deploy/grantor.test.ts).
    const policies = ofType('AWS::Events::EventBusPolicy');
    expect(policies.map(([id]) => id)).toEqual(['KeyturnMemberAccountEvents']);
    const statement = policies[0]![1].Properties.Statement as { Principal: unknown };
    expect(statement.Principal).toEqual({
      AWS: ['arn:aws:iam::444455556666:root'],
    });
  });

  it('worker: the job queue, partial batch failures, a dead-letter queue after 8 receives', () => {
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping')[0]!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['JobQueue', 'Arn'] },
      FunctionName: fnArn('worker'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const queue = resources.JobQueue!.Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['JobDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 8,
    });
    // A failed job's retry delay (ChangeMessageVisibility) replaces the visibility timeout, so the
    // queue's receives cover about half an hour of retries before the dead-letter queue.
    const receives = (queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount;
    const retrying = Array.from({ length: receives - 1 }, (_, i) => jobRetryDelaySeconds(i + 1));
    expect(retrying.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30 * 60);
    expect(Math.max(...retrying)).toBeLessThan(queue.VisibilityTimeout as number);
    // AWS: a queue's visibility timeout should be at least six times its consumer's timeout.
    const workerTimeout = resources.WorkerLambdaFunction!.Properties.Timeout as number;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    expect(resources.JobDeadLetterQueue!.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('sweeper: every minute, and with reconcile: true every 10 minutes', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    expect(rules.map(([, r]) => r.Properties)).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [expect.objectContaining({ Arn: fnArn('sweeper') })],
      }),
      expect.objectContaining({
        ScheduleExpression: 'rate(10 minutes)',
        State: 'ENABLED',
        Targets: [expect.objectContaining({ Arn: fnArn('sweeper'), Input: '{"reconcile":true}' })],
      }),
    ]);
  });

  it("digest: EventBridge Scheduler at the config's digest.at, in its digest.timezone", () => {
    expect(config.digest).toEqual({ at: '09:00', timezone: 'Asia/Tokyo' });
    expect(resources.DigestSchedule!.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Tokyo',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: fnArn('digest'),
        RoleArn: { 'Fn::GetAtt': ['DigestSchedulerRole', 'Arn'] },
      },
    });
  });

  it("sessionEvents and commandEvents: EventBridge rules with the patterns from FACTS.md, commandEvents narrowed to Keyturn's document and final statuses", () => {
    const patterns = Object.fromEntries(
      ofType('AWS::Events::Rule')
        .filter(([, r]) => r.Properties.EventPattern)
        .map(([, r]) => [
          JSON.stringify((r.Properties.Targets as { Arn: unknown }[])[0]!.Arn),
          r.Properties.EventPattern,
        ]),
    );
    // keyturn.example.yml serves its own account and the factory member account; forwarded events keep their account.
    expect(patterns).toEqual({
      [JSON.stringify(fnArn('sessionEvents'))]: {
        account: ['123456789012', '444455556666'],
        source: ['aws.ssm'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventName: ['StartSession', 'TerminateSession', 'ResumeSession'] },
      },
      [JSON.stringify(fnArn('commandEvents'))]: {
        account: ['123456789012', '444455556666'],
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: {
          'document-name': [RUN_SHELL_DOCUMENT],
          status: [{ 'anything-but': ['Pending', 'InProgress', 'Delayed', 'Cancelling'] }],
        },
      },
    });
  });

  it('commandEvents: the statuses the rule drops are exactly those the handler does not record', () => {
    const [, rule] = ofType('AWS::Events::Rule').find(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes('CommandEventsLambdaFunction'),
    )!;
    const pattern = rule.Properties.EventPattern as { detail: { status: [{ 'anything-but': string[] }] } };
    const dropped = pattern.detail.status[0]['anything-but'];
    for (const status of dropped) expect(classifyInvocation(status)).toBeUndefined();
    // Run Command's invocation statuses (GetCommandInvocation, FACTS.md): every other one is final.
    const all = [
      'Pending',
      'InProgress',
      'Delayed',
      'Success',
      'Cancelled',
      'TimedOut',
      'Failed',
      'Cancelling',
    ];
    for (const status of all.filter((s) => !dropped.includes(s))) {
      expect(classifyInvocation(status)).toBeDefined();
    }
  });
});

describe('storage and alarms', () => {
  it('the table has the keys and indexes the code uses, point-in-time recovery and deletion protection', () => {
    const table = resources.KeyturnTable!;
    const expected = tableDefinition('keyturn-dev');
    expect(table.Properties).toEqual({
      TableName: 'keyturn-dev',
      BillingMode: expected.BillingMode,
      AttributeDefinitions: expected.AttributeDefinitions,
      KeySchema: expected.KeySchema,
      GlobalSecondaryIndexes: expected.GlobalSecondaryIndexes,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect((expected.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName)).toEqual([
      'byStatus',
      'byDay',
      'byRequester',
    ]);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('alarms on dead-letter queue depth and on worker errors', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['JobDeadLetterQueue', 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    ]);
  });

  it('without an alarmTopicArn the alarms have no actions: no empty ARN, no condition on two literals', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual({ Ref: 'AWS::NoValue' });
    expect(template.Conditions).toBeUndefined();
  });
});

describe('stage and region', () => {
  it('names everything after the stage, in the region of keyturn.yml', () => {
    expect(config.aws.region).toBe(REGION);
    expect(resources.SlackLambdaFunction!.Properties.FunctionName).toBe('keyturn-dev-slack');
    expect(resources.JobQueue!.Properties.QueueName).toBe('keyturn-dev-jobs');
    expect(resolveIntrinsics(template, resources.IamRoleLambdaExecution!.Properties.RoleName)).toBe(
      `keyturn-dev-${REGION}-lambdaRole`,
    );
  });
});
