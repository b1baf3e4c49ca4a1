import { createJsonCall, type SignedCallOptions, signed } from './signed-json';

export type { HttpPost } from './signed-json';

/**
 * SSM `GetParameters` (with decryption) as one SigV4-signed HTTPS POST, for the Slack secrets: both
 * SecureStrings in one request (one TLS handshake on a cold start), through the slack function's own
 * JSON-protocol transport (src/adapters/aws/signed-json.ts) rather than the SDK's SSM client, which
 * would cost that function's cold start more than all of its own code (BENCHMARKS.md, item 3).
 * Like the SDK, it takes credentials from the environment (Lambda always sets them there) and
 * honours `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL` (DESIGN.md contract). Needs
 * `ssm:GetParameters` on the parameters (deploy/stack.ts).
 */
export type ParametersReader = (names: readonly string[]) => Promise<ReadonlyMap<string, string | undefined>>;

/**
 * The parameters' values by name; a name SSM does not know (its `InvalidParameters`) is absent from the
 * map. A failure is an error named as the SDK names it (`ThrottlingException`, `AccessDeniedException`,
 * …), never carrying a value. Throttling and server errors are retried as the SDK's standard mode does.
 */
export function createSignedParametersReader(opts: SignedCallOptions): ParametersReader {
  const call = createJsonCall({
    service: 'ssm',
    targetPrefix: 'AmazonSSM',
    jsonVersion: '1.1',
    ...signed(opts),
  });
  return async (names) => {
    const answer = (await call('GetParameters', { Names: names, WithDecryption: true })) as {
      Parameters?: { Name?: string; Value?: string }[];
    };
    const values = new Map<string, string | undefined>();
    for (const p of answer.Parameters ?? []) if (p.Name !== undefined) values.set(p.Name, p.Value);
    return values;
  };
}
