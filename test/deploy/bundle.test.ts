import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoGrantStore } from '../../src/adapters/dynamodb/grant-store';
import { ensureTable, startDynalite } from '../../src/adapters/dynamodb/local';
import { loadConfig } from '../../src/config/load';
import { FUNCTIONS, OUT_DIR, ROOT, readZip, type ZipEntry } from './stack-files';

// The function zips `npm run package` wrote: what is in them, how big they are, and that the
// slack and worker bundles boot as Lambda would run them, reading their secrets from SSM.

const SLACK_BUDGET_BYTES = 2_000_000;
const handlerFile = (fn: string) => fn.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const zipOf = (fn: string) => path.join(OUT_DIR, `${fn}.zip`);
const entriesOf = (fn: string) => readZip(zipOf(fn));
const entry = (entries: ZipEntry[], name: string) => {
  const found = entries.find((e) => e.name === name);
  if (!found) throw new Error(`${name} is not in the zip`);
  return found;
};

/** Packages that only devDependencies need, per the lockfile: none of them may reach a bundle. */
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean }>;
};

/** `../../../node_modules/a/node_modules/@b/c/x.js` → `node_modules/a/node_modules/@b/c` (a lockfile key). */
function packageKey(source: string): string | undefined {
  const parts = source.split('/');
  const start = parts.indexOf('node_modules');
  if (start < 0) return undefined;
  const key: string[] = [];
  let i = start;
  while (parts[i] === 'node_modules') {
    const scoped = parts[i + 1]?.startsWith('@');
    key.push('node_modules', ...parts.slice(i + 1, i + (scoped ? 3 : 2)));
    i += scoped ? 3 : 2;
  }
  return key.join('/');
}

function sourcesOf(fn: string): string[] {
  const map = JSON.parse(
    entry(entriesOf(fn), `handlers/${handlerFile(fn)}.js.map`)
      .read()
      .toString('utf8'),
  );
  return (map.sources as string[]).map((s) => s.replace(/^(\.\.\/)+/, ''));
}

describe('function zips', () => {
  it.each(FUNCTIONS)(
    '%s holds its bundle, source map and the validated config, and no node_modules',
    (fn) => {
      const names = entriesOf(fn)
        .map((e) => e.name)
        .sort();
      expect(names).toEqual([
        '.keyturn-package/config.json',
        `handlers/${handlerFile(fn)}.js`,
        `handlers/${handlerFile(fn)}.js.map`,
      ]);
      const compiled = JSON.parse(
        entry(entriesOf(fn), '.keyturn-package/config.json').read().toString('utf8'),
      );
      expect(compiled).toEqual({
        format: 'keyturn-config/1',
        source: 'keyturn.example.yml',
        config: JSON.parse(
          JSON.stringify(
            loadConfig({ env: { KEYTURN_CONFIG: 'keyturn.example.yml' }, cwd: ROOT, log: () => {} }),
          ),
        ),
      });
    },
  );

  it("the SDK's bundles carry no credential source but the environment's: no SSO, ini file, process, web identity or metadata link, no STS/SSO client", () => {
    for (const fn of FUNCTIONS.filter((f) => f !== 'slack')) {
      const sources = sourcesOf(fn);
      expect(
        sources.filter((s) =>
          /node_modules\/(@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|token-providers)|@smithy\/credential-provider-imds)\//.test(
            s,
          ),
        ),
      ).toEqual([]);
      expect(sources).toEqual(expect.arrayContaining(['deploy/lambda-stubs/credential-provider-node.js']));
    }
  });

  it('slack carries no AWS SDK client: its DynamoDB item calls, SendMessage and GetParameters are signed HTTP requests', () => {
    const sources = sourcesOf('slack');
    expect(sources.filter((s) => /node_modules\/(@aws-sdk\/(?!util-dynamodb\/)|@smithy\/)/.test(s))).toEqual(
      [],
    );
    // dynamodb-toolbox's `import … from '@aws-sdk/lib-dynamodb'` resolved to the signed client's commands
    // (deploy/esbuild-plugins.js); util-dynamodb marshals as lib-dynamodb does.
    expect(sources).toEqual(
      expect.arrayContaining([
        'src/adapters/aws/signed-json.ts',
        'src/adapters/aws/signed-dynamodb.ts',
        'src/adapters/aws/signed-sqs.ts',
        'src/adapters/logging/json-logger.ts',
      ]),
    );
    expect(sources.filter((s) => s.includes('node_modules/@aws-sdk/util-dynamodb/')).length).toBeGreaterThan(
      0,
    );
    expect(sources.filter((s) => /node_modules\/(pino|thread-stream|sonic-boom)\//.test(s))).toEqual([]);
  });

  it("the worker takes the AWS SDK's ES module builds, so esbuild keeps only the commands and code it calls", () => {
    const sdk = sourcesOf('worker').filter((s) => /node_modules\/@aws-sdk\/client-(dynamodb|sqs)\//.test(s));
    expect(sdk.length).toBeGreaterThan(0);
    expect(sdk.filter((s) => !/\/dist-es\//.test(s) && !s.endsWith('/package.json'))).toEqual([]);
    // Of the DynamoDB client's 62 commands, only the item reads and writes dynamodb-toolbox can send;
    // of SQS's 23, SendMessage and ChangeMessageVisibility.
    const commands = (client: string) =>
      sdk
        .filter((s) => s.includes(`/client-${client}/dist-es/commands/`) && !s.endsWith('/index.js'))
        .map((s) => path.basename(s, 'Command.js'))
        .sort();
    expect(
      commands('dynamodb').filter((c) => !/Item|Items|^Query$|^Scan$|^DescribeEndpoints$/.test(c)),
    ).toEqual([]);
    expect(commands('sqs')).toEqual(['ChangeMessageVisibility', 'SendMessage']);
    expect(sourcesOf('worker')).not.toContain('src/adapters/aws/signed-dynamodb.ts');
  });

  it('slack carries only the ack path: no IAM or SSM client, no YAML parser or zod, no session or digest store', () => {
    const sources = sourcesOf('slack');
    expect(
      sources.filter((s) =>
        /node_modules\/(@aws-sdk\/client-(iam|ssm)|yaml|zod)\/|src\/adapters\/aws\/(iam-access-control|ssm-fleet|ssm-command-runner)|src\/adapters\/dynamodb\/(session-store|digest-reader|anomaly-log)/.test(
          s,
        ),
      ),
    ).toEqual([]);
  });

  it.each([
    'src/adapters/slack/request-card-blocks.ts',
    'src/adapters/slack/extension-card-blocks.ts',
    'src/adapters/slack/notice-blocks.ts',
    'src/adapters/slack/audit-alert-blocks.ts',
    'src/adapters/slack/audit-blocks.ts',
    'src/adapters/slack/home-blocks.ts',
    'src/adapters/slack/slack-chat.ts',
    'node_modules/dynamodb-toolbox/dist/esm/entity/actions/update/updateItemCommand.js',
    'node_modules/dynamodb-toolbox/dist/esm/entity/actions/update/expressUpdate/expressUpdate.js',
  ])(
    "slack carries none of the worker's Slack views or node-result writes: not %s, which the worker has",
    (source) => {
      expect(sourcesOf('slack')).not.toContain(source);
      expect(sourcesOf('worker')).toContain(source);
    },
  );

  it(`keeps the slack function under ${SLACK_BUDGET_BYTES / 1e6} MB zipped`, () => {
    expect(statSync(zipOf('slack')).size).toBeLessThan(SLACK_BUDGET_BYTES);
  });

  it.each(FUNCTIONS)(
    '%s bundles no devDependency: no IAM policy evaluator, dynalite, playwright or jest',
    (fn) => {
      const sources = sourcesOf(fn);
      const packages = [...new Set(sources.map(packageKey).filter((k): k is string => k !== undefined))];
      expect(packages.length).toBeGreaterThan(20);
      const devOnly = packages.filter((key) => lock.packages[key]?.dev === true || !lock.packages[key]);
      expect(devOnly).toEqual([]);
      const forbidden =
        /node_modules\/(@cloud-copilot|dynalite|playwright|@playwright|jest|@jest|ts-jest|osls|serverless-esbuild|esbuild|tsx)\//;
      expect(sources.filter((s) => forbidden.test(s))).toEqual([]);
      expect(
        sources.filter((s) =>
          /^(test\/|src\/adapters\/sandbox\/|src\/adapters\/dynamodb\/local\.ts)/.test(s),
        ),
      ).toEqual([]);
    },
  );

  it.each(FUNCTIONS)('%s leaves no require unresolved except optional ones the SDK guards', (fn) => {
    const js = entry(entriesOf(fn), `handlers/${handlerFile(fn)}.js`)
      .read()
      .toString('utf8');
    // Not the text of the SDK's SigV4a error message ("…by calling [require(\"@aws-sdk/signature-v4-crt\");]…"),
    // which the STS client's multi-region signer carries: a sentence, not a call.
    const required = [...js.matchAll(/(?<!calling \[)require\("([^"]+)"\)/g)].map((m) => m[1]!);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    // debug's terminal colours, tried inside try/catch. (The SDK's SigV4a signer, `@aws-sdk/signature-v4-crt`,
    // was one too until the bundles took the SDK's ES module builds, from which esbuild drops it unused.)
    expect([...new Set(required.filter((m) => !builtins.has(m)))].sort()).toEqual(['supports-color']);
  });

  it('replaces Socket Mode and iconv-lite with stand-ins (deploy/lambda-stubs), so undici is not bundled', () => {
    const sources = sourcesOf('slack');
    expect(sources).toEqual(
      expect.arrayContaining(['deploy/lambda-stubs/socket-mode.js', 'deploy/lambda-stubs/iconv-lite.js']),
    );
    expect(sources.filter((s) => /node_modules\/(@slack\/socket-mode|undici|iconv-lite)\//.test(s))).toEqual(
      [],
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Booting the bundles as Lambda would: unzipped into a task root, cwd there, config from the zip,
// Slack secrets from "Parameter Store" (a local fake speaking the SSM JSON protocol).

const run = promisify(execFile);
const SIGNING_SECRET = 'signing-secret-from-ssm';
const PARAMETERS: Record<string, string> = {
  '/keyturn/test/slack-bot-token': 'xoxb-from-ssm',
  '/keyturn/test/slack-signing-secret': SIGNING_SECRET,
};

let ssm: Server;
let ssmUrl: string;
/** The table the sweeper bundle reads, served by dynalite on loopback. */
let dynamo: { endpoint: string; close(): Promise<void> };
const ssmRequests: { target: string; body: { Names: string[]; WithDecryption?: boolean } }[] = [];
let taskRoot: string;
let invocations = 0;
/** SQS (JSON protocol) taking SendMessage, as the slack function's queue. */
let sqs: Server;
let queueUrl: string;
const sqsRequests: { target: string; body: { QueueUrl: string; MessageBody: string } }[] = [];

beforeAll(async () => {
  ssm = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as { Names: string[] };
      const target = String(req.headers['x-amz-target']);
      ssmRequests.push({ target, body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'AmazonSSM.GetParameters') {
        // The sweeper's DescribeSessions, say: this fake is only Parameter Store.
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
        return;
      }
      // GetParameters: the known names with their values, the others in InvalidParameters.
      res.end(
        JSON.stringify({
          Parameters: body.Names.filter((name) => PARAMETERS[name] !== undefined).map((name) => ({
            Name: name,
            Type: 'SecureString',
            Value: PARAMETERS[name],
            Version: 1,
          })),
          InvalidParameters: body.Names.filter((name) => PARAMETERS[name] === undefined),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve));
  ssmUrl = `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`;
  sqs = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw);
      sqsRequests.push({ target: String(req.headers['x-amz-target']), body });
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      // The SDK checks the body's MD5 against the one SQS computed.
      const md5 = createHash('md5').update(body.MessageBody).digest('hex');
      res.end(JSON.stringify({ MessageId: `m-${sqsRequests.length}`, MD5OfMessageBody: md5 }));
    });
  });
  await new Promise<void>((resolve) => sqs.listen(0, '127.0.0.1', resolve));
  queueUrl = `http://127.0.0.1:${(sqs.address() as AddressInfo).port}/123456789012/keyturn-test-jobs`;
  dynamo = await startDynalite();
  const client = new DynamoDBClient({
    region: 'ap-northeast-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' },
  });
  await ensureTable(client, 'keyturn-test');
  client.destroy();

  taskRoot = mkdtempSync(path.join(tmpdir(), 'keyturn-task-'));
  for (const fn of ['slack', 'worker', 'sweeper']) {
    const dir = path.join(taskRoot, fn);
    for (const e of entriesOf(fn)) {
      mkdirSync(path.dirname(path.join(dir, e.name)), { recursive: true });
      writeFileSync(path.join(dir, e.name), e.read());
    }
  }
  writeFileSync(
    path.join(taskRoot, 'invoke.js'),
    // Logs go to stdout as on Lambda, so the outcome goes to a file.
    `const { writeFileSync } = require('node:fs');
     const [, , bundle, event, out] = process.argv;
     const { handler } = require(bundle);
     Promise.resolve(handler(JSON.parse(event), {}))
       .then((result) => writeFileSync(out, JSON.stringify({ result: result ?? null })))
       .catch((e) => writeFileSync(out, JSON.stringify({ error: String(e) })));`,
  );
});

afterAll(async () => {
  await new Promise((resolve) => ssm.close(resolve));
  await new Promise((resolve) => sqs.close(resolve));
  await dynamo.close();
});

/** One cold start and one invocation of a function, in a clean process with Lambda-like settings. */
async function invoke(
  fn: string,
  event: unknown,
  overrides: Record<string, string> = {},
): Promise<{ result?: unknown; error?: string }> {
  const dir = path.join(taskRoot, fn);
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_OPTIONS: '--enable-source-maps',
    LOG_LEVEL: 'error',
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'example-secret',
    AWS_ENDPOINT_URL_SSM: ssmUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    // The worker reads the account's IAM quotas as it starts: nothing may leave loopback.
    AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:9',
    AWS_EC2_METADATA_DISABLED: 'true',
    KEYTURN_CONFIG_JSON: '.keyturn-package/config.json',
    KEYTURN_TABLE: 'keyturn-test',
    KEYTURN_QUEUE_URL: 'http://127.0.0.1:9/queue/keyturn-test-jobs',
    SLACK_BOT_TOKEN_PARAM: '/keyturn/test/slack-bot-token',
    SLACK_SIGNING_SECRET_PARAM: '/keyturn/test/slack-signing-secret',
    SLACK_BOT_ID: 'B0KEYTURN',
    SLACK_BOT_USER_ID: 'U0KEYTURN',
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
    ...overrides,
  };
  const out = path.join(taskRoot, `${fn}-${++invocations}.json`);
  const bundle = path.join(dir, 'handlers', `${handlerFile(fn)}.js`);
  try {
    await run(process.execPath, [path.join(taskRoot, 'invoke.js'), bundle, JSON.stringify(event), out], {
      cwd: dir,
      env,
    });
    return JSON.parse(readFileSync(out, 'utf8'));
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${fn} did not run: ${(error as Error).message}\n${stdout}\n${stderr}`);
  }
}

function slashCommandEvent(text: string, secret: string) {
  const body = new URLSearchParams({
    command: '/access',
    text,
    user_id: 'U0ALICE',
    user_name: 'alice',
    channel_id: 'C0WORK',
    team_id: 'T0KEYTURN',
    api_app_id: 'A0KEYTURN',
    response_url: 'http://127.0.0.1:9/response',
    trigger_id: 'trigger-1',
  }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    },
    requestContext: { http: { method: 'POST', path: '/slack/events' } },
    body,
    isBase64Encoded: false,
  };
}

describe('the bundles boot as Lambda runs them', () => {
  it('slack: reads both secrets from SSM with one GetParameters with decryption and answers a request signed with them', async () => {
    const response = (await invoke('slack', slashCommandEvent('help', SIGNING_SECRET))) as {
      result: { statusCode: number; body: string };
    };
    expect(response.result.statusCode).toBe(200);
    expect(JSON.parse(response.result.body)).toMatchObject({ response_type: 'ephemeral' });
    expect(response.result.body).toContain('prod-raspi');
    expect(
      ssmRequests
        .filter((r) => r.target.includes('Parameter'))
        .map((r) => [r.target, r.body.Names, r.body.WithDecryption]),
    ).toEqual([
      [
        'AmazonSSM.GetParameters',
        ['/keyturn/test/slack-bot-token', '/keyturn/test/slack-signing-secret'],
        true,
      ],
    ]);
  });

  it('slack: stores an /access request and enqueues its card before answering, with the credentials from the environment', async () => {
    const response = (await invoke('slack', slashCommandEvent('prod-raspi 1h fix the disk', SIGNING_SECRET), {
      KEYTURN_QUEUE_URL: queueUrl,
    })) as { result: { statusCode: number; body: string } };
    expect(response.result.statusCode).toBe(200);
    expect(JSON.parse(response.result.body)).toMatchObject({ response_type: 'ephemeral' });
    // The one message the listener sent before the response: the request card's job, for the grant it wrote.
    expect(sqsRequests.map((r) => [r.target, r.body.QueueUrl])).toEqual([
      ['AmazonSQS.SendMessage', queueUrl],
    ]);
    const job = JSON.parse(sqsRequests[0]!.body.MessageBody) as { kind: string; grantId: string };
    expect(job.kind).toBe('post-request-card');
    const client = new DynamoDBClient({
      region: 'ap-northeast-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' },
    });
    const grants = createDynamoGrantStore({
      documentClient: DynamoDBDocumentClient.from(client),
      tableName: 'keyturn-test',
    });
    expect(await grants.get(job.grantId)).toMatchObject({
      id: job.grantId,
      requester: 'U0ALICE',
      status: 'pending',
    });
    client.destroy();
  });

  it('slack: refuses a request signed with any other secret', async () => {
    const response = (await invoke('slack', slashCommandEvent('help', 'some-other-secret'))) as {
      result: { statusCode: number };
    };
    expect(response.result.statusCode).toBe(401);
  });

  it('worker: reports an unreadable job as a batch item failure', async () => {
    const response = await invoke('worker', {
      Records: [{ messageId: 'm-1', body: '{"kind":', attributes: {}, messageAttributes: {} }],
    });
    expect(response).toEqual({ result: { batchItemFailures: [{ itemIdentifier: 'm-1' }] } });
  });

  it('sweeper: boots, queries the table through its indexes and reports an empty sweep', async () => {
    expect(await invoke('sweeper', { source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual({
      result: { ended: 0, warned: 0, lapsed: 0, redriven: 0, failures: 0 },
    });
  });
});
