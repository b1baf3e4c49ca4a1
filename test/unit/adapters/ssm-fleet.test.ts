import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  InternalServerError,
  InvalidFilterKey,
  SSMClient,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createSsmFleet } from '../../../src/adapters/aws/ssm-fleet';

const ssm = mockClient(SSMClient);
const fleet = createSsmFleet(new SSMClient({ region: 'ap-northeast-1' }));

beforeEach(() => ssm.reset());

function inputs() {
  return ssm.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input);
}

describe('nodesTagged', () => {
  it('reads every page with one tag filter per tag and nothing else', async () => {
    ssm
      .on(DescribeInstanceInformationCommand, { NextToken: undefined })
      .resolves({
        InstanceInformationList: [
          {
            InstanceId: 'mi-0a1b2c3d4e5f60001',
            Name: 'raspi-line-1',
            ComputerName: 'raspi1',
            PingStatus: 'Online',
          },
          { InstanceId: 'mi-0a1b2c3d4e5f60002', ComputerName: 'raspi2.local', PingStatus: 'ConnectionLost' },
        ],
        NextToken: 'page-2',
      })
      .on(DescribeInstanceInformationCommand, { NextToken: 'page-2' })
      .resolves({
        InstanceInformationList: [{ InstanceId: 'i-0123456789abcdef0', PingStatus: 'Inactive' }],
        NextToken: 'page-3',
      })
      .on(DescribeInstanceInformationCommand, { NextToken: 'page-3' })
      .resolves({ InstanceInformationList: [{ InstanceId: 'mi-0a1b2c3d4e5f60003' }] });

    const nodes = await fleet.nodesTagged({ Fleet: 'prod-raspi', Site: 'osaka' });

    expect(nodes).toEqual([
      { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
      { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi2.local', ping: 'ConnectionLost' },
      { id: 'i-0123456789abcdef0', ping: 'Inactive' },
      { id: 'mi-0a1b2c3d4e5f60003', ping: 'Unknown' },
    ]);
    const filters = [
      { Key: 'tag:Fleet', Values: ['prod-raspi'] },
      { Key: 'tag:Site', Values: ['osaka'] },
    ];
    expect(inputs()).toEqual([
      { Filters: filters, MaxResults: 50, NextToken: undefined },
      { Filters: filters, MaxResults: 50, NextToken: 'page-2' },
      { Filters: filters, MaxResults: 50, NextToken: 'page-3' },
    ]);
  });

  it('answers an empty list when no node carries the tags', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    await expect(fleet.nodesTagged({ Fleet: 'nowhere' })).resolves.toEqual([]);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
  });

  it('offers a node seen on two pages once, and skips entries without an id', async () => {
    ssm
      .on(DescribeInstanceInformationCommand, { NextToken: undefined })
      .resolves({
        InstanceInformationList: [
          { InstanceId: 'mi-1', PingStatus: 'ConnectionLost' },
          { PingStatus: 'Online' },
        ],
        NextToken: 'p2',
      })
      .on(DescribeInstanceInformationCommand, { NextToken: 'p2' })
      .resolves({ InstanceInformationList: [{ InstanceId: 'mi-1', PingStatus: 'Online' }] });

    await expect(fleet.nodesTagged({ Fleet: 'prod-raspi' })).resolves.toEqual([
      { id: 'mi-1', ping: 'Online' },
    ]);
  });

  it('wraps an SSM failure without leaking the SDK type, keeping it as cause', async () => {
    const sdkError = new InvalidFilterKey({ message: 'bad key', $metadata: {} });
    ssm.on(DescribeInstanceInformationCommand).rejects(sdkError);

    const error = await fleet.nodesTagged({ Fleet: 'prod-raspi' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      message: 'SSM DescribeInstanceInformation failed with InvalidFilterKey',
      cause: sdkError,
    });
  });
});

const OWNER = 'arn:aws:iam::123456789012:user/alice';
const ROLE_OWNER = 'arn:aws:sts::123456789012:assumed-role/oncall-dave/dave@example.com';

function sessionInputs() {
  return ssm.commandCalls(DescribeSessionsCommand).map((c) => c.args[0].input);
}

describe('activeSessions', () => {
  it('reads every page of active sessions and maps each to a SessionInfo', async () => {
    ssm
      .on(DescribeSessionsCommand, { NextToken: undefined })
      .resolves({
        Sessions: [
          {
            SessionId: 'alice-0a1b2c3d4e5f60718',
            Owner: OWNER,
            Target: 'mi-0a1b2c3d4e5f60001',
            StartDate: new Date('2026-11-02T13:05:00Z'),
            DocumentName: 'SSM-SessionManagerRunShell',
            Status: 'Connected',
            OutputUrl: {
              S3OutputUrl: 's3://logs/alice-0a1b2c3d4e5f60718.log',
              CloudWatchOutputUrl: 'cw://x',
            },
          },
        ],
        NextToken: 'page-2',
      })
      .on(DescribeSessionsCommand, { NextToken: 'page-2' })
      .resolves({
        Sessions: [
          {
            SessionId: 'dave@example.com-07c5a5e3cf7a3a4b1',
            Owner: ROLE_OWNER,
            Target: 'i-0123456789abcdef0',
            StartDate: new Date('2026-11-02T13:10:00Z'),
            DocumentName: 'AWS-StartSSHSession',
            Status: 'Connected',
            OutputUrl: {
              S3OutputUrl: '',
              CloudWatchOutputUrl: 'https://console.aws.amazon.com/cloudwatch/x',
            },
          },
          // No id: nothing could be done with it, so it is left out.
          { Owner: OWNER, Target: 'mi-0a1b2c3d4e5f60001' },
        ],
      });

    const sessions = await fleet.activeSessions();

    // Strict: fields SSM did not send (EndDate) stay absent rather than undefined.
    expect(sessions).toStrictEqual([
      {
        id: 'alice-0a1b2c3d4e5f60718',
        owner: OWNER,
        target: 'mi-0a1b2c3d4e5f60001',
        startedAt: '2026-11-02T13:05:00.000Z',
        document: 'SSM-SessionManagerRunShell',
        status: 'Connected',
        outputUrl: 's3://logs/alice-0a1b2c3d4e5f60718.log',
      },
      {
        id: 'dave@example.com-07c5a5e3cf7a3a4b1',
        owner: ROLE_OWNER,
        target: 'i-0123456789abcdef0',
        startedAt: '2026-11-02T13:10:00.000Z',
        document: 'AWS-StartSSHSession',
        status: 'Connected',
        outputUrl: 'https://console.aws.amazon.com/cloudwatch/x',
      },
    ]);
    expect(sessionInputs()).toEqual([
      { State: 'Active', MaxResults: 200, NextToken: undefined },
      { State: 'Active', MaxResults: 200, NextToken: 'page-2' },
    ]);
  });

  it('answers an empty list when no session is open', async () => {
    ssm.on(DescribeSessionsCommand).resolves({});

    await expect(fleet.activeSessions()).resolves.toEqual([]);
    expect(ssm).toHaveReceivedCommandTimes(DescribeSessionsCommand, 1);
  });

  it("asks for one owner's sessions only, with DescribeSessions' Owner filter", async () => {
    ssm.on(DescribeSessionsCommand).resolves({ Sessions: [] });

    await fleet.activeSessions({ owner: OWNER });

    expect(ssm).toHaveReceivedCommandWith(DescribeSessionsCommand, {
      State: 'Active',
      Filters: [{ key: 'Owner', value: OWNER }],
    });
  });

  it('wraps a failure, keeping the SDK error as cause', async () => {
    const sdkError = new InternalServerError({ message: 'boom', $metadata: {} });
    ssm.on(DescribeSessionsCommand).rejects(sdkError);

    await expect(fleet.activeSessions()).rejects.toMatchObject({
      message: 'SSM DescribeSessions failed with InternalServerError',
      cause: sdkError,
    });
  });
});

describe('sessionsSince', () => {
  it('reads ended sessions invoked after the time given, every page, with their end time', async () => {
    ssm
      .on(DescribeSessionsCommand, { NextToken: undefined })
      .resolves({
        Sessions: [
          {
            SessionId: 'alice-0a1b2c3d4e5f60718',
            Owner: OWNER,
            Target: 'mi-0a1b2c3d4e5f60001',
            StartDate: new Date('2026-11-02T13:05:00Z'),
            EndDate: new Date('2026-11-02T13:20:00Z'),
            DocumentName: 'SSM-SessionManagerRunShell',
            Status: 'Terminated',
          },
        ],
        NextToken: 'p2',
      })
      .on(DescribeSessionsCommand, { NextToken: 'p2' })
      .resolves({ Sessions: [] });

    await expect(fleet.sessionsSince('2026-11-02T13:00:00Z')).resolves.toStrictEqual([
      {
        id: 'alice-0a1b2c3d4e5f60718',
        owner: OWNER,
        target: 'mi-0a1b2c3d4e5f60001',
        startedAt: '2026-11-02T13:05:00.000Z',
        endedAt: '2026-11-02T13:20:00.000Z',
        document: 'SSM-SessionManagerRunShell',
        status: 'Terminated',
      },
    ]);
    const filters = [{ key: 'InvokedAfter', value: '2026-11-02T13:00:00Z' }];
    expect(sessionInputs()).toEqual([
      { State: 'History', Filters: filters, MaxResults: 200, NextToken: undefined },
      { State: 'History', Filters: filters, MaxResults: 200, NextToken: 'p2' },
    ]);
  });

  it.each([
    ['2026-11-02T13:00:00.000Z', '2026-11-02T13:00:00Z'],
    ['2026-11-02T13:00:07.999Z', '2026-11-02T13:00:07Z'],
  ])('sends InvokedAfter %s as whole seconds, %s (SSM takes no milliseconds)', async (after, sent) => {
    ssm.on(DescribeSessionsCommand).resolves({ Sessions: [] });
    await fleet.sessionsSince(after);
    expect(sessionInputs()).toEqual([
      {
        State: 'History',
        Filters: [{ key: 'InvokedAfter', value: sent }],
        MaxResults: 200,
        NextToken: undefined,
      },
    ]);
  });
});

describe('terminateSession', () => {
  it('sends TerminateSession with the id and nothing else', async () => {
    ssm.on(TerminateSessionCommand).resolves({ SessionId: 'alice-0a1b2c3d4e5f60718' });

    await expect(fleet.terminateSession('alice-0a1b2c3d4e5f60718')).resolves.toBeUndefined();

    expect(ssm).toHaveReceivedCommandTimes(TerminateSessionCommand, 1);
    expect(ssm.commandCalls(TerminateSessionCommand)[0]?.args[0].input).toEqual({
      SessionId: 'alice-0a1b2c3d4e5f60718',
    });
  });

  it('wraps a failure, keeping the SDK error as cause', async () => {
    const sdkError = new InternalServerError({ message: 'boom', $metadata: {} });
    ssm.on(TerminateSessionCommand).rejects(sdkError);

    await expect(fleet.terminateSession('alice-1')).rejects.toMatchObject({
      message: 'SSM TerminateSession failed with InternalServerError',
      cause: sdkError,
    });
  });
});
