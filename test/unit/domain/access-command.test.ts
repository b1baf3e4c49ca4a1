import { parseAccessCommand } from '../../../src/domain/access-command';

describe('parseAccessCommand', () => {
  it.each([
    ['', { kind: 'help' }],
    ['   ', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    [
      'prod-raspi 1h replace sensor',
      { kind: 'request', target: 'prod-raspi', durationText: '1h', reason: 'replace sensor' },
    ],
    ['prod-raspi replace sensor', { kind: 'request', target: 'prod-raspi', reason: 'replace sensor' }],
    [
      'prod-raspi  2h30m   fix   it',
      { kind: 'request', target: 'prod-raspi', durationText: '2h30m', reason: 'fix it' },
    ],
    ['prod-raspi 5x fix', { kind: 'request', target: 'prod-raspi', durationText: '5x', reason: 'fix' }],
    ['prod-raspi 1h', { kind: 'request', target: 'prod-raspi', durationText: '1h', reason: '' }],
    ['prod-raspi', { kind: 'request', target: 'prod-raspi', reason: '' }],
    ['list', { kind: 'list' }],
    ['done', { kind: 'done' }],
    ['done A1B2C3', { kind: 'done', grantId: 'a1b2c3' }],
    ['cancel a1b2c3', { kind: 'cancel', grantId: 'a1b2c3' }],
    ['cancel', { kind: 'cancel' }],
    ['revoke a1b2c3', { kind: 'revoke', grantId: 'a1b2c3', reason: '' }],
    ['revoke a1b2c3 left the company', { kind: 'revoke', grantId: 'a1b2c3', reason: 'left the company' }],
    ['extend a1b2c3 30m', { kind: 'extend', grantId: 'a1b2c3', durationText: '30m' }],
    ['extend a1b2c3', { kind: 'extend', grantId: 'a1b2c3' }],
    ['extend', { kind: 'extend' }],
  ])('%p', (text, expected) => {
    expect(parseAccessCommand(text)).toEqual(expected);
  });
});

describe('a bare number starts the reason, not a duration', () => {
  it('keeps "2 sensors" as the reason', () => {
    expect(parseAccessCommand('prod-raspi 2 sensors down')).toEqual({
      kind: 'request',
      target: 'prod-raspi',
      reason: '2 sensors down',
    });
  });
});
