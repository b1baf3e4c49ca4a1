import { AccountUnreachableError } from '../../../src/adapters/aws/assumed-role-credentials';
import { AccessControlError } from '../../../src/ports/access-control';
import { isAccountUnreachable } from '../../../src/ports/aws-places';
import { CommandRunnerError } from '../../../src/ports/command-runner';

describe('isAccountUnreachable', () => {
  const sts = new AccountUnreachableError(
    '444455556666',
    'arn:aws:iam::444455556666:role/keyturn-grantor',
    'AccessDenied',
  );

  it('knows the credentials error itself, and the ports’ errors carrying its code', () => {
    expect(isAccountUnreachable(sts)).toBe(true);
    expect(
      isAccountUnreachable(new AccessControlError('AccountUnreachable', sts.message, { cause: sts })),
    ).toBe(true);
    expect(isAccountUnreachable(new CommandRunnerError('AccountUnreachable', sts.message, 'no', true))).toBe(
      true,
    );
  });

  it('finds it as the cause of a wrapping error (the SDK, an adapter that wraps)', () => {
    const wrapped = new Error('SSM DescribeSessions failed', {
      cause: new Error('middleware', { cause: sts }),
    });
    expect(isAccountUnreachable(wrapped)).toBe(true);
  });

  it('is false for one call failing, and for anything that is not an error', () => {
    expect(isAccountUnreachable(new AccessControlError('AccessDenied', 'denied'))).toBe(false);
    expect(isAccountUnreachable(new Error('Throttling', { cause: { name: 'ThrottlingException' } }))).toBe(
      false,
    );
    expect(isAccountUnreachable(undefined)).toBe(false);
    expect(isAccountUnreachable('AccountUnreachable')).toBe(false);
    // A cause chain that loops ends.
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isAccountUnreachable(a)).toBe(false);
  });
});
