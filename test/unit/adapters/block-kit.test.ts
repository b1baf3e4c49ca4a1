import {
  escapeMrkdwn,
  MAX_SECTION_TEXT,
  redactSecrets,
  slackDate,
  truncate,
} from '../../../src/adapters/slack/block-kit';

describe('helpers', () => {
  it('escapeMrkdwn escapes &, < and > and nothing else', () => {
    expect(escapeMrkdwn('a & b <@U1> *bold* _it_ `x`')).toBe('a &amp; b &lt;@U1&gt; *bold* _it_ `x`');
  });

  it('slackDate renders a date token with an ISO fallback, and a custom format', () => {
    expect(slackDate('2026-11-03T14:05:00.123Z')).toBe(
      '<!date^1793714700^{date_short_pretty} at {time}|2026-11-03T14:05:00Z>',
    );
    expect(slackDate('2026-11-03T14:05:00Z', '{time}')).toBe(
      '<!date^1793714700^{time}|2026-11-03T14:05:00Z>',
    );
    expect(slackDate('not a <date>')).toBe('not a &lt;date&gt;');
  });

  it('truncate never splits a token, an escape or a surrogate pair', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdef <@U0ALICE>', 12)).toBe('abcdef …');
    expect(truncate('abcdef &amp; more', 10)).toBe('abcdef …');
    expect(truncate('abcdefgh😀tail', 10)).toBe('abcdefgh…');
    expect(truncate('x'.repeat(3001), MAX_SECTION_TEXT)).toHaveLength(MAX_SECTION_TEXT);
  });
});

describe('redactSecrets', () => {
  it('leaves ARNs, session ids and ordinary words alone', () => {
    const text = 'arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2 alice-0a1b2c3d4e5f60001 NoSuchEntity';
    expect(redactSecrets(text)).toBe(text);
  });
});
