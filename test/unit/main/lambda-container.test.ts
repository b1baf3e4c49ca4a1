import { execFile } from 'node:child_process';
import http, { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { compileConfig } from '../../../src/config/compiled';
import { loadConfig } from '../../../src/config/load';
import { containerWith, type RuntimeParts, type Transport } from '../../../src/main/lambda-container';

// The shared Lambda container: wired once per set of secrets; a failed secrets read fails the
// invocation (never the process) and the next invocation reads again.

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'keyturn-container-'));
const configFile = path.join(dir, 'config.json');
writeFileSync(
  configFile,
  compileConfig(
    loadConfig({ env: { KEYTURN_CONFIG: 'keyturn.example.yml' }, cwd: ROOT, log: () => {} }),
    'test',
  ),
);

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function useEnv(extra: Record<string, string>) {
  process.env = {
    ...saved,
    KEYTURN_CONFIG_JSON: configFile,
    KEYTURN_TABLE: 'keyturn-test',
    KEYTURN_QUEUE_URL: 'http://127.0.0.1:9/q',
    SLACK_BOT_TOKEN_PARAM: '',
    SLACK_SIGNING_SECRET_PARAM: '',
    ...extra,
  };
}

function parts(events: string[]): RuntimeParts<Transport> {
  return {
    logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }),
    transport: () => {
      events.push('transport');
      return {
        dynamo: { send: async () => ({}) } as unknown as DynamoDBDocumentClient,
        queue: { enqueue: async () => undefined },
      };
    },
  };
}

describe('containerWith', () => {
  it('builds the runtime and wires once for concurrent and later invocations, with the secrets', async () => {
    useEnv({ SLACK_BOT_TOKEN: 'xoxb-env', SLACK_SIGNING_SECRET: 'secret-env' });
    const events: string[] = [];
    const get = containerWith(parts(events), async (runtime, secrets) => {
      events.push(`wire ${secrets.botToken}`);
      return runtime.grants;
    });
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
    expect(events).toEqual(['transport', 'wire xoxb-env']);
  });

  it("sends the secrets' read first and builds what needs no secret while it travels, once per container", async () => {
    // A Parameter Store that answers only when told, so the test sees what ran while the read was out.
    let answer: (() => void) | undefined;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        answer = () =>
          res.end(
            JSON.stringify({
              Parameters: [
                { Name: '/k/token', Value: 'xoxb-ssm' },
                { Name: '/k/signing', Value: 'secret-ssm' },
              ],
            }),
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const events: string[] = [];
    const realRequest = http.request;
    const request = jest.spyOn(http, 'request').mockImplementation((...args: unknown[]) => {
      const req = (realRequest as (...a: unknown[]) => ReturnType<typeof http.request>)(...args);
      events.push('read sent');
      req.on('finish', () => events.push('read written'));
      return req;
    });
    try {
      useEnv({
        SLACK_BOT_TOKEN_PARAM: '/k/token',
        SLACK_SIGNING_SECRET_PARAM: '/k/signing',
        AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
      });
      const get = containerWith(
        parts(events),
        async (runtime, secrets, prepared: string) => {
          events.push(`wire ${secrets.botToken} with ${prepared}`);
          return runtime.grants;
        },
        () => {
          events.push('prepare');
          return 'stores';
        },
      );
      const first = get();
      while (!answer) await new Promise((resolve) => setTimeout(resolve, 5));
      // The read is out and unanswered, and what needs no secret is already built. (When the request's
      // bytes leave against the build is the event loop's business: 'read written' is not ordered.)
      const order = () => events.filter((e) => e !== 'read written');
      expect(order()).toEqual(['transport', 'read sent', 'prepare']);
      expect(events).toContain('read written');
      answer();
      const grants = await first;
      expect(await get()).toBe(grants);
      expect(order()).toEqual(['transport', 'read sent', 'prepare', 'wire xoxb-ssm with stores']);
    } finally {
      request.mockRestore();
      // The client keeps its connection alive; closing the server must not wait for it.
      server.closeAllConnections();
      server.close();
    }
  });

  it('builds again on the next invocation when building what needs no secret failed', async () => {
    useEnv({ SLACK_BOT_TOKEN: 'xoxb-env', SLACK_SIGNING_SECRET: 'secret-env' });
    let attempts = 0;
    const get = containerWith(
      parts([]),
      async (_runtime, _secrets, prepared: number) => prepared,
      () => {
        attempts += 1;
        if (attempts === 1) throw new Error('table unavailable');
        return attempts;
      },
    );
    await expect(get()).rejects.toThrow('table unavailable');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
  });

  it('fails an invocation whose secrets cannot be read, and reads again on the next', async () => {
    useEnv({ SLACK_SIGNING_SECRET: 'secret-env' });
    const get = containerWith(parts([]), async (_runtime, secrets) => secrets.botToken);
    await expect(get()).rejects.toThrow('SLACK_BOT_TOKEN_PARAM');
    process.env.SLACK_BOT_TOKEN = 'xoxb-late';
    expect(await get()).toBe('xoxb-late');
  });

  it('a secrets read that fails at cold start is no unhandled rejection (which would end the process)', async () => {
    // In its own Node process: Jest keeps unhandled rejections from reaching the test.
    const script = path.join(dir, 'unreadable.ts');
    writeFileSync(
      script,
      `import { containerWith } from ${JSON.stringify(path.join(ROOT, 'src/main/lambda-container'))};
       const get = containerWith(
         { logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }),
           transport: () => ({ dynamo: {} as never, queue: { enqueue: async () => undefined } }) },
         async () => 'wired',
       );
       get().then(() => console.log('wired'), (e) => console.log('refused:', e.code));`,
    );
    const { stdout } = await run(process.execPath, ['--require', require.resolve('tsx/cjs'), script], {
      env: {
        PATH: process.env.PATH ?? '',
        KEYTURN_CONFIG_JSON: configFile,
        KEYTURN_TABLE: 'keyturn-test',
        KEYTURN_QUEUE_URL: 'http://127.0.0.1:9/q',
        SLACK_SIGNING_SECRET: 'secret-env',
      },
    });
    expect(stdout.trim()).toBe('refused: SECRET_UNREADABLE');
  });
});
