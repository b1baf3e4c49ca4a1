import { execFile } from 'node:child_process';
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
