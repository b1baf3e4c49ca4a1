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

describe('a second word starting with a digit or "-" is a duration, valid or not (issue 11)', () => {
  it.each(['-1h', '-30m', '-', '--', '\u22121h', '2', '1.5h', '90'])(
    'takes %p as the duration, not the start of the reason',
    (word) => {
      expect(parseAccessCommand(`prod-raspi ${word} fix sensor`)).toEqual({
        kind: 'request',
        target: 'prod-raspi',
        durationText: word,
        reason: 'fix sensor',
      });
    },
  );

  it('keeps a reason that starts with a word as the reason', () => {
    expect(parseAccessCommand('prod-raspi two sensors down')).toEqual({
      kind: 'request',
      target: 'prod-raspi',
      reason: 'two sensors down',
    });
  });
});

describe('a bare number is a duration to check, not the start of the reason', () => {
  it('reads "2 sensors down" as duration "2", which the request then refuses as malformed', () => {
    expect(parseAccessCommand('prod-raspi 2 sensors down')).toEqual({
      kind: 'request',
      target: 'prod-raspi',
      durationText: '2',
      reason: 'sensors down',
    });
  });
});
