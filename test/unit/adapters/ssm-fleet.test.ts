import { DescribeInstanceInformationCommand, InvalidFilterKey, SSMClient } from '@aws-sdk/client-ssm';
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
