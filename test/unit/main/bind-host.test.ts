import { bindHost, isLoopbackAddress } from '../../../src/main/bind-host';

describe('bindHost', () => {
  it('listens on 127.0.0.1 when HOST is unset or empty', () => {
    expect(bindHost({})).toEqual({ ok: true, host: '127.0.0.1' });
    expect(bindHost({ HOST: ' ' })).toEqual({ ok: true, host: '127.0.0.1' });
  });

  it.each(['127.0.0.1', '127.0.0.53', 'localhost', '::1', '::ffff:127.0.0.1'])(
    'takes the loopback HOST %s',
    (host) => {
      expect(bindHost({ HOST: host })).toEqual({ ok: true, host });
    },
  );

  it.each(['0.0.0.0', '::', '192.168.1.20', '10.0.0.5', 'keyturn.internal', '128.0.0.1'])(
    'refuses HOST=%s without KEYTURN_ALLOW_REMOTE=1, saying what to do',
    (host) => {
      const answer = bindHost({ HOST: host });
      expect(answer).toEqual({ ok: false, reason: expect.stringContaining(`HOST is ${host}`) });
      if (!answer.ok) {
        expect(answer.reason).toContain('Unset HOST');
        expect(answer.reason).toContain('KEYTURN_ALLOW_REMOTE=1');
      }
    },
  );

  it('takes a non-loopback HOST when KEYTURN_ALLOW_REMOTE=1 says it is meant', () => {
    expect(bindHost({ HOST: '0.0.0.0', KEYTURN_ALLOW_REMOTE: '1' })).toEqual({ ok: true, host: '0.0.0.0' });
    expect(bindHost({ HOST: '0.0.0.0', KEYTURN_ALLOW_REMOTE: 'yes' }).ok).toBe(false);
  });

  it('knows loopback from the rest', () => {
    expect(isLoopbackAddress('127.255.255.254')).toBe(true);
    expect(isLoopbackAddress('::2')).toBe(false);
    expect(isLoopbackAddress('localhost.evil.example')).toBe(false);
  });
});
