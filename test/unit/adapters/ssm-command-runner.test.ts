import {
  type CommandStatus,
  GetCommandInvocationCommand,
  InternalServerError,
  InvalidDocument,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createSsmCommandRunner, toRunnerError } from '../../../src/adapters/aws/ssm-command-runner';
import { CommandRunnerError, type SendCommandRequest } from '../../../src/ports/command-runner';

const ssm = mockClient(SSMClient);
const runner = createSsmCommandRunner(new SSMClient({ region: 'ap-northeast-1' }));

beforeEach(() => ssm.reset());

const request: SendCommandRequest = {
  documentName: 'AWS-RunShellScript',
  targetTags: { Fleet: 'prod-raspi', Site: 'osaka' },
  commands: ["journalctl -u 'ssh' -n '100' --no-pager"],
  deliveryTimeoutSeconds: 300,
  executionTimeoutSeconds: 120,
  maxConcurrency: '10%',
  maxErrors: '1',
  comment: 'Keyturn run a1b2c3 by U0ALICE: logs on prod-raspi',
};

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

describe('sendCommand', () => {
  it('sends one SendCommand with a tag target per tag, the timeouts, limits and comment', async () => {
    ssm.on(SendCommandCommand).resolves({
      Command: { CommandId: 'cmd-1', ExpiresAfter: new Date('2026-11-23T11:07:00Z') },
    });
    expect(await runner.sendCommand(request)).toEqual({
      commandId: 'cmd-1',
      expiresAt: '2026-11-23T11:07:00.000Z',
    });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input).toEqual({
      DocumentName: 'AWS-RunShellScript',
      Targets: [
        { Key: 'tag:Fleet', Values: ['prod-raspi'] },
        { Key: 'tag:Site', Values: ['osaka'] },
      ],
      Parameters: { commands: ["journalctl -u 'ssh' -n '100' --no-pager"], executionTimeout: ['120'] },
      TimeoutSeconds: 300,
      MaxConcurrency: '10%',
      MaxErrors: '1',
      Comment: 'Keyturn run a1b2c3 by U0ALICE: logs on prod-raspi',
    });
  });

  it('leaves out what the snippet does not set, and adds S3 and CloudWatch output when configured', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    const minimal: SendCommandRequest = {
      documentName: 'AWS-RunShellScript',
      targetTags: { Fleet: 'prod-raspi' },
      commands: ['df -h /'],
      deliveryTimeoutSeconds: 300,
      comment: 'c',
      output: { s3Bucket: 'keyturn-out', s3KeyPrefix: 'run/', cloudWatchLogGroup: '/keyturn/run' },
    };
    expect(await runner.sendCommand(minimal)).toEqual({ commandId: 'cmd-2' });
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input).toEqual({
      DocumentName: 'AWS-RunShellScript',
      Targets: [{ Key: 'tag:Fleet', Values: ['prod-raspi'] }],
      Parameters: { commands: ['df -h /'] },
      TimeoutSeconds: 300,
      Comment: 'c',
      OutputS3BucketName: 'keyturn-out',
      OutputS3KeyPrefix: 'run/',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/keyturn/run' },
    });
  });

  it('goes through the send client it was given, and only that one', async () => {
    const sendClient = new SSMClient({ region: 'ap-northeast-1', maxAttempts: 1 });
    const sendOnly = mockClient(sendClient);
    sendOnly.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-3' } });
    const withSendClient = createSsmCommandRunner(new SSMClient({ region: 'ap-northeast-1' }), {
      sendClient,
    });
    await withSendClient.sendCommand(request);
    expect(sendOnly).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 0);
    sendOnly.restore();
  });

  it.each([
    [
      'a refusal (4xx) means nothing was sent',
      new InvalidDocument({ message: 'no such document', ...metadata(400) }),
      { code: 'InvalidDocument', sent: 'no', retryable: false },
    ],
    [
      'throttling means nothing was sent, and may be retried',
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        ...metadata(400),
      }),
      { code: 'ThrottlingException', sent: 'no', retryable: true },
    ],
    [
      'a server error leaves it unknown whether the command went out',
      new InternalServerError({ message: 'oops', ...metadata(500) }),
      { code: 'InternalServerError', sent: 'unknown' },
    ],
    [
      'a network error leaves it unknown too',
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
      { code: 'TimeoutError', sent: 'unknown' },
    ],
  ])('%s', async (_name, error, expected) => {
    ssm.on(SendCommandCommand).rejects(error);
    const thrown = await runner.sendCommand(request).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(CommandRunnerError);
    expect(thrown).toMatchObject(expected);
    expect((thrown as Error).message).toContain('SSM SendCommand failed with');
    expect((thrown as Error).cause).toBe(error);
  });

  it('an answer without a command id is an unknown outcome, not success', async () => {
    ssm.on(SendCommandCommand).resolves({});
    await expect(runner.sendCommand(request)).rejects.toMatchObject({
      code: 'InvalidResponse',
      sent: 'unknown',
    });
  });
});

describe('progress', () => {
  it('reads the command and every page of invocations', async () => {
    ssm.on(ListCommandsCommand, { CommandId: 'cmd-1' }).resolves({
      Commands: [
        { CommandId: 'cmd-1', Status: 'InProgress', TargetCount: 3, Comment: 'Keyturn run r1 by U0DAVE' },
      ],
    });
    ssm
      .on(ListCommandInvocationsCommand, { CommandId: 'cmd-1', NextToken: undefined })
      .resolves({
        CommandInvocations: [
          { InstanceId: 'mi-1', InstanceName: 'raspi-1', Status: 'Success', StatusDetails: 'Success' },
          { InstanceId: 'mi-2', Status: 'InProgress', StatusDetails: 'InProgress' },
        ],
        NextToken: 'p2',
      })
      .on(ListCommandInvocationsCommand, { CommandId: 'cmd-1', NextToken: 'p2' })
      .resolves({
        CommandInvocations: [
          { InstanceId: 'mi-3', Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' },
          {},
        ],
      });

    expect(await runner.progress('cmd-1')).toEqual({
      done: false,
      targetCount: 3,
      invocations: [
        { nodeId: 'mi-1', nodeName: 'raspi-1', status: 'Success', statusDetails: 'Success' },
        { nodeId: 'mi-2', status: 'InProgress', statusDetails: 'InProgress' },
        { nodeId: 'mi-3', status: 'TimedOut', statusDetails: 'DeliveryTimedOut' },
      ],
      comment: 'Keyturn run r1 by U0DAVE',
    });
    expect(ssm.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input)).toEqual([
      { CommandId: 'cmd-1', Details: true, MaxResults: 50, NextToken: undefined },
      { CommandId: 'cmd-1', Details: true, MaxResults: 50, NextToken: 'p2' },
    ]);
  });

  it.each([
    ['Success', true],
    ['Failed', true],
    ['TimedOut', true],
    ['Cancelled', true],
    ['Pending', false],
    ['InProgress', false],
    ['Cancelling', false],
  ] as [CommandStatus, boolean][])('a command in status %s is done: %s', async (Status, done) => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-1', Status }] });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
    expect((await runner.progress('cmd-1')).done).toBe(done);
  });
});

describe('progress: results from the detailed listing', () => {
  const plugin = (Output: string, more: Record<string, unknown> = {}) => ({
    Name: 'aws:runShellScript',
    Status: 'Success' as const,
    ResponseCode: 0,
    ResponseStartDateTime: new Date('2026-11-23T10:00:01Z'),
    ResponseFinishDateTime: new Date('2026-11-23T10:00:02Z'),
    Output,
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    ...more,
  });

  it('takes each ended node’s result from the listing, stderr split off; cut or odd output is left to GetCommandInvocation', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-1', Status: 'InProgress' }] });
    ssm.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        { InstanceId: 'mi-1', Status: 'Success', StatusDetails: 'Success', CommandPlugins: [plugin('ok\n')] },
        {
          InstanceId: 'mi-2',
          Status: 'Failed',
          StatusDetails: 'Failed',
          CommandPlugins: [
            plugin('out\n\n----------ERROR-------\nbad\n', { Status: 'Failed', ResponseCode: 2 }),
          ],
        },
        {
          InstanceId: 'mi-3',
          Status: 'Success',
          StatusDetails: 'Success',
          CommandPlugins: [plugin(`${'x'.repeat(2_400)}\n---Output truncated---`)],
        },
        {
          InstanceId: 'mi-4',
          Status: 'Success',
          StatusDetails: 'Success',
          CommandPlugins: [plugin('a\n----------ERROR-------\nb\n----------ERROR-------\nc')],
        },
        { InstanceId: 'mi-5', Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', CommandPlugins: [] },
        {
          InstanceId: 'mi-6',
          Status: 'InProgress',
          StatusDetails: 'InProgress',
          CommandPlugins: [plugin('')],
        },
      ],
    });
    const { invocations } = await runner.progress('cmd-1');
    expect(invocations.map((i) => [i.nodeId, i.result !== undefined])).toEqual([
      ['mi-1', true],
      ['mi-2', true],
      ['mi-3', false],
      ['mi-4', false],
      ['mi-5', true],
      ['mi-6', false],
    ]);
    expect(invocations[0]?.result).toEqual({
      nodeId: 'mi-1',
      status: 'Success',
      statusDetails: 'Success',
      exitCode: 0,
      startedAt: '2026-11-23T10:00:01.000Z',
      endedAt: '2026-11-23T10:00:02.000Z',
      stdout: 'ok\n',
      stderr: '',
    });
    expect(invocations[1]?.result).toMatchObject({ exitCode: 2, stdout: 'out\n', stderr: 'bad\n' });
    expect(invocations[4]?.result).toMatchObject({ exitCode: -1, stdout: '', stderr: '' });
  });

  it('when-done: one ListCommands while the command runs, then every invocation once it is done', async () => {
    ssm
      .on(ListCommandsCommand)
      .resolvesOnce({
        Commands: [{ CommandId: 'cmd-7', Status: 'InProgress', TargetCount: 2, CompletedCount: 1 }],
      })
      .resolves({ Commands: [{ CommandId: 'cmd-7', Status: 'Success', TargetCount: 2, CompletedCount: 2 }] });
    ssm.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        { InstanceId: 'mi-1', Status: 'Success', CommandPlugins: [plugin('a')] },
        { InstanceId: 'mi-2', Status: 'Success', CommandPlugins: [plugin('b')] },
      ],
    });
    expect(await runner.progress('cmd-7', { invocations: 'when-done' })).toEqual({
      done: false,
      targetCount: 2,
      completedCount: 1,
      invocations: [],
      comment: '',
    });
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 0);
    const done = await runner.progress('cmd-7', { invocations: 'when-done' });
    expect(done.invocations.map((i) => i.result?.stdout)).toEqual(['a', 'b']);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
  });

  it('lists again only when SSM’s completed count has moved', async () => {
    ssm
      .on(ListCommandsCommand)
      .resolvesOnce({ Commands: [{ CommandId: 'cmd-9', Status: 'InProgress', CompletedCount: 1 }] })
      .resolvesOnce({ Commands: [{ CommandId: 'cmd-9', Status: 'InProgress', CompletedCount: 1 }] })
      .resolves({ Commands: [{ CommandId: 'cmd-9', Status: 'Success', CompletedCount: 2 }] });
    ssm.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [{ InstanceId: 'mi-1', Status: 'Success', CommandPlugins: [plugin('ok')] }],
    });
    const first = await runner.progress('cmd-9');
    expect(await runner.progress('cmd-9')).toEqual(first);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
    expect((await runner.progress('cmd-9')).done).toBe(true);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 2);
  });
});

describe('result', () => {
  it('maps GetCommandInvocation, output and S3 locations', async () => {
    ssm.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'mi-1' }).resolves({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 2,
      ExecutionStartDateTime: '2026-11-23T10:00:01.000Z',
      ExecutionEndDateTime: '2026-11-23T10:00:03.500Z',
      StandardOutputContent: 'out',
      StandardErrorContent: 'err',
      StandardOutputUrl:
        'https://s3.ap-northeast-1.amazonaws.com/keyturn-out/run/cmd-1/mi-1/awsrunShellScript/0.awsrunShellScript/stdout',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: false },
      Comment: 'Keyturn run r1 by U0DAVE',
    });
    expect(await runner.result('cmd-1', 'mi-1')).toEqual({
      nodeId: 'mi-1',
      status: 'Failed',
      statusDetails: 'Failed',
      exitCode: 2,
      startedAt: '2026-11-23T10:00:01.000Z',
      endedAt: '2026-11-23T10:00:03.500Z',
      stdout: 'out',
      stderr: 'err',
      stdoutLocation:
        'https://s3.ap-northeast-1.amazonaws.com/keyturn-out/run/cmd-1/mi-1/awsrunShellScript/0.awsrunShellScript/stdout',
      comment: 'Keyturn run r1 by U0DAVE',
    });
  });

  it('names the CloudWatch Logs streams when output goes there', async () => {
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: '',
      StandardOutputUrl: '',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/keyturn/run' },
    });
    expect(await runner.result('cmd-1', 'mi-1')).toMatchObject({
      stdout: '',
      stderr: '',
      stdoutLocation: 'CloudWatch Logs /keyturn/run › cmd-1/mi-1/aws-runShellScript/stdout',
      stderrLocation: 'CloudWatch Logs /keyturn/run › cmd-1/mi-1/aws-runShellScript/stderr',
    });
  });
});

describe('findCommand', () => {
  it('finds our command by its exact comment, on any page, sent after `since`', async () => {
    ssm
      .on(ListCommandsCommand, { NextToken: undefined })
      .resolves({
        Commands: [{ CommandId: 'other', Comment: 'Keyturn run a1b2c3 by U0ALICE: logs on prod-raspi!' }],
        NextToken: 'p2',
      })
      .on(ListCommandsCommand, { NextToken: 'p2' })
      .resolves({ Commands: [{ CommandId: 'ours', Comment: request.comment }] });
    expect(await runner.findCommand(request.comment, '2026-11-23T09:59:00Z')).toBe('ours');
    expect(ssm.commandCalls(ListCommandsCommand)[0]?.args[0].input).toEqual({
      Filters: [
        { key: 'InvokedAfter', value: '2026-11-23T09:59:00Z' },
        { key: 'DocumentName', value: 'AWS-RunShellScript' },
      ],
      MaxResults: 50,
      NextToken: undefined,
    });
  });

  it.each([
    ['2026-11-23T09:59:00.000Z', '2026-11-23T09:59:00Z'],
    ['2026-11-23T09:59:41.999Z', '2026-11-23T09:59:41Z'],
  ])('sends InvokedAfter %s as whole seconds, %s (SSM takes no milliseconds)', async (since, sent) => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    await runner.findCommand(request.comment, since);
    expect(ssm.commandCalls(ListCommandsCommand)[0]?.args[0].input.Filters).toEqual([
      { key: 'InvokedAfter', value: sent },
      { key: 'DocumentName', value: 'AWS-RunShellScript' },
    ]);
  });

  it('answers undefined when no command has the comment', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'other', Comment: 'something else' }] });
    expect(await runner.findCommand(request.comment, '2026-11-23T09:59:00.000Z')).toBeUndefined();
  });
});

describe('toRunnerError', () => {
  it('reads HTTP 429 as throttling whatever the error is called', () => {
    expect(
      toRunnerError(
        'SendCommand',
        Object.assign(new Error('slow down'), { name: 'Weird', ...metadata(429) }),
      ),
    ).toMatchObject({
      sent: 'no',
      retryable: true,
    });
  });
});
