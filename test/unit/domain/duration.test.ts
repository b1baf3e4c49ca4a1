import { describeDurationError, formatDuration, parseDuration } from '../../../src/domain/duration';

describe('parseDuration', () => {
  it.each([
    ['30m', 30],
    ['1h', 60],
    ['2h30m', 150],
    ['90m', 90],
    ['12h', 720],
    [' 1H ', 60],
    ['0h45m', 45],
    ['1h0m', 60],
  ])('reads %p as %p minutes', (input, minutes) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: minutes });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['1', 'malformed'],
    ['h', 'malformed'],
    ['1d', 'malformed'],
    ['30s', 'malformed'],
    ['1.5h', 'malformed'],
    ['-1h', 'malformed'],
    ['+1h', 'malformed'],
    ['1h 30m', 'malformed'],
    ['30m1h', 'malformed'],
    ['1x', 'malformed'],
    ['one hour', 'malformed'],
    ['1h;rm -rf', 'malformed'],
    ['99999999999h', 'malformed'],
    ['0m', 'zero'],
    ['0h0m', 'zero'],
    ['9999h', 'too-long'],
    ['99999m', 'too-long'],
  ])('refuses %p (%s)', (input, reason) => {
    const parsed = parseDuration(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.reason).toBe(reason);
  });

  it('explains a malformed duration with the forms that work', () => {
    const parsed = parseDuration('5x');
    if (parsed.ok) throw new Error('5x parsed');
    expect(describeDurationError(parsed.error)).toBe("'5x' is not a duration like 30m, 1h, 2h30m or 90m");
  });
});

describe('formatDuration', () => {
  it.each([
    [30, '30m'],
    [60, '1h'],
    [150, '2h30m'],
    [720, '12h'],
  ])('%p minutes → %p', (minutes, text) => {
    expect(formatDuration(minutes)).toBe(text);
    expect(parseDuration(text)).toEqual({ ok: true, value: minutes });
  });
});
