import { createHash, createHmac } from 'node:crypto';
import { createSignedParametersReader } from '../../../src/adapters/aws/ssm-parameters';
import { fakePost, SIGNED_ENV as ENV, type SentRequest as Sent } from '../../support/signed-posts';

// The Slack secrets reader: one SigV4-signed GetParameters over node:https. The signature is
// recomputed here independently (AWS SigV4 steps, node:crypto), so a wrong hash or header shows.

const hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4 by the book, for a POST to `/` with no query. */
function expectedSignature(req: Sent, secret: string, region: string): string {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const auth = headers.authorization ?? '';
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '';
  const date = headers['x-amz-date'] ?? '';
  const canonical = [
    'POST',
    '/',
    '',
    ...signedHeaders.split(';').map((h) => `${h}:${String(headers[h]).trim()}`),
    '',
    signedHeaders,
    hex(req.body),
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${region}/ssm/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, hex(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${secret}`, date.slice(0, 8));
  for (const part of [region, 'ssm', 'aws4_request']) key = hmac(key, part);
  return hmac(key, toSign).toString('hex');
}

describe('createSignedParametersReader', () => {
  it('sends one GetParameters with decryption for every name, signed with SigV4 for ssm in the region, and returns the values by name', async () => {
    const { post, sent } = fakePost([
      {
        status: 200,
        body: {
          Parameters: [
            { Name: '/keyturn/prod/y', Type: 'SecureString', Value: 'other' },
            { Name: '/keyturn/prod/x', Type: 'SecureString', Value: 's3cret' },
          ],
          InvalidParameters: ['/keyturn/prod/missing'],
        },
      },
    ]);
    const read = createSignedParametersReader({ env: ENV, region: 'us-east-1', post });

    const values = await read(['/keyturn/prod/x', '/keyturn/prod/y', '/keyturn/prod/missing']);
    expect([...values].sort()).toEqual([
      ['/keyturn/prod/x', 's3cret'],
      ['/keyturn/prod/y', 'other'],
    ]);
    expect(values.has('/keyturn/prod/missing')).toBe(false);

    expect(sent).toHaveLength(1);
    const req = sent[0] as Sent;
    expect(req.url).toBe('https://ssm.ap-northeast-1.amazonaws.com/');
    expect(JSON.parse(req.body)).toEqual({
      Names: ['/keyturn/prod/x', '/keyturn/prod/y', '/keyturn/prod/missing'],
      WithDecryption: true,
    });
    expect(req.headers['content-length']).toBe(String(Buffer.byteLength(req.body)));
    expect(req.headers['x-amz-target']).toBe('AmazonSSM.GetParameters');
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req.headers['x-amz-security-token']).toBe('session-token');
    const auth = req.headers.authorization ?? '';
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-northeast-1\/ssm\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(auth.split('Signature=')[1]).toBe(
      expectedSignature(req, ENV.AWS_SECRET_ACCESS_KEY, 'ap-northeast-1'),
    );
  });

  it('honours AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL', async () => {
    const first = fakePost([{ status: 200, body: { Parameters: [] } }]);
    await createSignedParametersReader({
      env: { ...ENV, AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      region: 'us-east-1',
      post: first.post,
    })(['/p']);
    expect(first.sent[0]?.url).toBe('http://127.0.0.1:4566/');
    const second = fakePost([{ status: 200, body: { Parameters: [] } }]);
    await createSignedParametersReader({
      env: { ...ENV, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      region: 'us-east-1',
      post: second.post,
    })(['/p']);
    expect(second.sent[0]?.url).toBe('http://127.0.0.1:9/');
  });

  it("names SSM's error like the SDK does and does not retry it", async () => {
    const { post, sent } = fakePost([
      { status: 400, body: { __type: 'com.amazonaws.ssm#AccessDeniedException', message: 'not allowed' } },
    ]);
    const read = createSignedParametersReader({ env: ENV, region: 'us-east-1', post });

    await expect(read(['/denied'])).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(sent).toHaveLength(1);
  });

  it('retries throttling and server errors, then succeeds', async () => {
    const { post, sent } = fakePost([
      { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } },
      { status: 500, body: { __type: 'InternalServerError' } },
      { status: 200, body: { Parameters: [{ Name: '/p', Value: 'late' }] } },
    ]);
    const slept: number[] = [];
    const read = createSignedParametersReader({
      env: ENV,
      region: 'us-east-1',
      post,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });

    expect((await read(['/p'])).get('/p')).toBe('late');
    expect(sent).toHaveLength(3);
    expect(slept).toHaveLength(2);
  });

  it('says the credentials are missing rather than sending an unsigned request', async () => {
    const { post, sent } = fakePost([]);
    const read = createSignedParametersReader({
      env: { AWS_REGION: 'us-east-1' },
      region: 'us-east-1',
      post,
    });

    await expect(read(['/p'])).rejects.toMatchObject({ name: 'CredentialsMissing' });
    expect(sent).toEqual([]);
  });
});
