import { summaryLine } from '../../../src/adapters/slack/run-phrases';

describe('summaryLine', () => {
  it('counts delivery timeouts with undeliverable nodes, and always says how many succeeded', () => {
    expect(summaryLine({})).toBe('0 succeeded');
    expect(
      summaryLine({
        succeeded: 1200,
        'delivery-timed-out': 2,
        undeliverable: 1,
        'timed-out': 1,
        'no-result': 1,
      }),
    ).toBe('1,200 succeeded · 1 timed out · 3 undeliverable · 1 no result');
  });
});
