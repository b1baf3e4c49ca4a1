import { sendRequest } from '../../../src/app/start-run';
import type { CommandRun } from '../../../src/domain/command-run';
import { prodRaspi, testConfig } from '../../support/fakes';

/* Where Run Command also keeps a run's full output (config `commandOutput`): the home account's bucket and log group. */

const config = {
  ...testConfig(),
  commandOutput: {
    s3Bucket: 'keyturn-run-output',
    s3KeyPrefix: 'runs/',
    cloudWatchLogGroup: '/keyturn/run-command',
  },
};

const run = (place: { account?: string; region?: string }): CommandRun => ({
  id: 'r1',
  snippet: 'disk',
  target: 'prod-raspi',
  ...place,
  params: {},
  command: 'df -h /',
  requester: 'U0ALICE',
  channel: 'C0WORK',
  status: 'sending',
  version: 3,
  requestedAt: '2026-11-23T10:00:00Z',
  needsApproval: false,
  approvals: [],
  comment: 'Keyturn run r1 by U0ALICE: disk on prod-raspi',
  deliveryTimeoutSeconds: 300,
  simulated: false,
});

describe('sendRequest: the output settings', () => {
  it('sends the home account’s runs with the configured bucket and log group (and runs recorded before there were places)', () => {
    for (const place of [{}, { account: '123456789012', region: 'ap-northeast-1' }])
      expect(sendRequest({ config }, run(place), prodRaspi).output).toEqual(config.commandOutput);
  });

  it('leaves them out for a member account’s run: its nodes may not write to the home account’s bucket', () => {
    const factory = { ...prodRaspi, account: '444455556666', region: 'eu-central-1' };
    const request = sendRequest(
      { config },
      run({ account: '444455556666', region: 'eu-central-1' }),
      factory,
    );
    expect(request.output).toBeUndefined();
    expect(request).toMatchObject({ targetTags: { Fleet: 'prod-raspi' }, commands: ['df -h /'] });
  });
});
