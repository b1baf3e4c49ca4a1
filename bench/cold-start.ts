import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { parseDocument } from 'yaml';
import { COMPILED_CONFIG_FILE, loadDeployConfig } from '../deploy/stack';
import { compileConfig } from '../src/config/compiled';
import { childMain, ROOT, TMP_DIR } from './child-process';
import { median, round } from './stats';

/**
 * Item 3: each Lambda bundle built with the esbuild settings serverless.yml gives serverless-esbuild
 * (read from the file, so the two cannot drift), and a minimal Bolt AwsLambdaReceiver app built the
 * same way. Init is timed in fresh `node` processes run as Lambda runs them (cwd = task root, the
 * config as `npm run package` writes it (validated keyturn.yml as JSON) and secrets as deployed, the Slack secrets read from a local SSM Parameter Store fake): from spawn
 * until the handler has built its dependencies, which for slack, worker and the minimal app means
 * until a first no-op invocation answers (it waits for the container), median of the runs.
 */

const OUT = path.join(TMP_DIR, 'cold-start');
const MINIMAL = 'minimalBoltApp';

export interface BundleResult {
  name: string;
  entry: string;
  bytes: number;
  gzipBytes: number;
  /** What the timed process does after `require`. */
  initIncludes: string;
  /** The npm packages (or source folders) taking the most of the minified bundle. */
  largest: { module: string; kib: number }[];
  runs: number;
  /** Spawn to exit of `node -e 'require(bundle)…'`: Node's own start-up, loading the bundle, building its deps. */
  processMedianMs: number;
  /** Inside the process, from just before `require` until the handler is ready. */
  initMedianMs: number;
  requireMedianMs: number;
  /** Statuses of the no-op invocation (401 for an unsigned Slack request; 'ok' otherwise). */
  answers: Record<string, number>;
}

export interface ColdStartResult {
  runs: number;
  nodeVersion: string;
  esbuild: Record<string, unknown>;
  bundles: BundleResult[];
  /** slack / minimal Bolt app, on process time and on in-process init time. */
  slackRatio: { process: number; init: number };
  /** With `--attribution` only: the slack bundle's variants (VARIANTS). */
  attribution?: AttributionResult[];
}

/**
 * `--attribution`: variants of the slack bundle, timed in the same round-robin, to say where its
 * cold start goes beyond the minimal app's (BENCHMARKS.md, item 3). Never part of `npm run bench`.
 */
const VARIANTS: Record<string, { secretsFromEnv: boolean; plugins?: Plugin[] }> = {
  /** The Slack secrets from the environment, as the minimal app takes them: the cost of the GetParameters read. */
  'slack-secretsFromEnv': { secretsFromEnv: true },
};

export interface AttributionResult {
  name: string;
  bytes: number;
  processMedianMs: number;
  initMedianMs: number;
  /** Over the minimal app's process time, as slackRatio.process. */
  ratio: number;
}

interface Built {
  name: string;
  /** Times the process with the minimal app's environment (secrets in variables, no parameter names). */
  secretsFromEnv?: boolean;
  entry: string;
  largest: { module: string; kib: number }[];
  bundle: string;
  taskRoot: string;
  event: unknown;
  initIncludes: string;
}

/**
 * serverless-esbuild's options as serverless.yml sets them, translated to esbuild's (exclude → external,
 * the plugins file → its plugins, which serverless-esbuild `require`s from the service directory).
 */
function esbuildOptions(): { options: BuildOptions; functions: Record<string, string> } {
  const yml = parseDocument(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')).toJS() as {
    custom: { esbuild: Record<string, unknown> & { exclude?: string[]; plugins?: string } };
    functions: Record<string, { handler: string }>;
  };
  const { exclude = [], plugins: pluginsFile, ...rest } = yml.custom.esbuild;
  const plugins = pluginsFile ? (require(path.join(ROOT, pluginsFile)) as BuildOptions['plugins']) : [];
  const functions = Object.fromEntries(
    Object.entries(yml.functions).map(([name, f]) => [name, `${f.handler.replace(/\.[^.]+$/, '')}.ts`]),
  );
  return {
    options: { ...(rest as BuildOptions), external: exclude, ...(plugins ? { plugins } : {}) },
    functions,
  };
}

/** What takes the room in a bundle: bytes of minified output per npm package (or per source folder). */
function largestPackages(metafile: Metafile): { module: string; kib: number }[] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, info] of Object.entries(output.inputs)) {
      const pkg =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
      bytes.set(pkg, (bytes.get(pkg) ?? 0) + info.bytesInOutput);
    }
  }
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([module, n]) => ({ module, kib: Math.round(n / 1024) }));
}

/** An API Gateway request with no valid Slack signature: Bolt refuses it (401) once the app is built. */
function unsignedSlackEvent() {
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
      'x-slack-signature': 'v0=00',
    },
    requestContext: { http: { method: 'POST', path: '/slack/events' } },
    body: 'command=%2Faccess&text=help',
    isBase64Encoded: false,
  };
}

const NO_OP: Record<string, { event: unknown; includes: string }> = {
  slack: { event: unsignedSlackEvent(), includes: 'require + first invocation (unsigned request → 401)' },
  worker: { event: { Records: [] }, includes: 'require + first invocation (empty SQS batch)' },
  [MINIMAL]: { event: unsignedSlackEvent(), includes: 'require + first invocation (unsigned request → 401)' },
};

async function buildAll(
  attribution: boolean,
  slackOnly = false,
): Promise<{ built: Built[]; options: BuildOptions }> {
  const { options, functions: all } = esbuildOptions();
  // `--slack-only`: the slack function and the minimal app alone, for a quicker ratio.
  const functions = slackOnly ? { slack: all.slack ?? 'handlers/slack.ts' } : all;
  rmSync(OUT, { recursive: true, force: true });
  // The config as `npm run package` ships it: keyturn.example.yml validated, written as JSON (deploy/stack.ts).
  const deploy = loadDeployConfig({
    serviceDir: ROOT,
    env: { KEYTURN_CONFIG: 'keyturn.example.yml' },
    log: () => undefined,
  });
  const compiled = compileConfig(deploy.config, deploy.configFile);
  const entries = { ...functions, [MINIMAL]: 'bench/minimal-bolt-app.ts' };
  const built: Built[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    const taskRoot = path.join(OUT, name);
    const result = await build({
      ...options,
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outdir: path.join(taskRoot, path.dirname(entry)),
      logLevel: 'error',
      metafile: true,
    });
    // The config travels in every zip and is read from the task root (serverless.yml `package.patterns`).
    mkdirSync(path.dirname(path.join(taskRoot, COMPILED_CONFIG_FILE)), { recursive: true });
    writeFileSync(path.join(taskRoot, COMPILED_CONFIG_FILE), compiled);
    const noOp = NO_OP[name];
    built.push({
      name,
      entry,
      largest: largestPackages(result.metafile),
      bundle: path.join(taskRoot, entry.replace(/\.ts$/, '.js')),
      taskRoot,
      event: noOp?.event ?? null,
      initIncludes: noOp?.includes ?? 'require only (its first invocation would run the use case)',
    });
  }
  if (attribution) {
    const slack = built.find((b) => b.name === 'slack');
    if (!slack) throw new Error('no slack function in serverless.yml');
    for (const [name, v] of Object.entries(VARIANTS)) {
      const taskRoot = path.join(OUT, name);
      await build({
        ...options,
        plugins: [...(v.plugins ?? []), ...(options.plugins ?? [])],
        absWorkingDir: ROOT,
        entryPoints: [slack.entry],
        outdir: path.join(taskRoot, path.dirname(slack.entry)),
        logLevel: 'error',
      });
      mkdirSync(path.dirname(path.join(taskRoot, COMPILED_CONFIG_FILE)), { recursive: true });
      writeFileSync(path.join(taskRoot, COMPILED_CONFIG_FILE), compiled);
      built.push({
        ...slack,
        name,
        secretsFromEnv: v.secretsFromEnv,
        largest: [],
        bundle: path.join(taskRoot, slack.entry.replace(/\.ts$/, '.js')),
        taskRoot,
      });
    }
  }
  return { built, options };
}

/** SSM Parameter Store (JSON protocol) answering GetParameters for the two Slack secrets. */
async function startParameterStore(): Promise<{ url: string; server: Server }> {
  const parameters: Record<string, string> = {
    '/keyturn/bench/slack-bot-token': 'xoxb-bench',
    '/keyturn/bench/slack-signing-secret': 'bench-signing-secret',
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const names = (JSON.parse(raw) as { Names?: string[] }).Names;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameters' || !names) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: 'Parameter Store only' }));
        return;
      }
      res.end(
        JSON.stringify({
          Parameters: names
            .filter((name) => parameters[name] !== undefined)
            .map((name) => ({ Name: name, Type: 'SecureString', Value: parameters[name], Version: 1 })),
          InvalidParameters: names.filter((name) => parameters[name] === undefined),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const TIMED_INIT = `
const { writeFileSync } = require('node:fs');
const [bundle, event, out] = process.argv.slice(1);
const t0 = performance.now();
const { handler } = require(bundle);
const t1 = performance.now();
const ev = JSON.parse(event);
Promise.resolve(ev === null ? undefined : handler(ev, {})).then(
  (r) => { writeFileSync(out, JSON.stringify({ requireMs: t1 - t0, initMs: performance.now() - t0, answer: r && r.statusCode !== undefined ? String(r.statusCode) : 'ok' })); process.exit(0); },
  (e) => { writeFileSync(out, JSON.stringify({ error: String(e) })); process.exit(0); });
`;

interface Timed {
  processMs: number;
  requireMs: number;
  initMs: number;
  answer: string;
}

async function timeOnce(b: Built, env: NodeJS.ProcessEnv, run: number): Promise<Timed> {
  const out = path.join(OUT, `${b.name}-${run}.json`);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', TIMED_INIT, b.bundle, JSON.stringify(b.event), out], {
    cwd: b.taskRoot,
    env,
    stdio: 'ignore',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
  const processMs = performance.now() - t0;
  const result = JSON.parse(readFileSync(out, 'utf8')) as Omit<Timed, 'processMs'> & { error?: string };
  if (result.error) throw new Error(`${b.name} failed to start: ${result.error}`);
  return { processMs, requireMs: result.requireMs, initMs: result.initMs, answer: result.answer };
}

export async function measureColdStart(
  runs: number,
  opts: { attribution?: boolean; slackOnly?: boolean } = {},
): Promise<ColdStartResult> {
  mkdirSync(OUT, { recursive: true });
  const { built, options } = await buildAll(opts.attribution === true, opts.slackOnly === true);
  const ssm = await startParameterStore();
  // What serverless.yml gives every function, pointed at local fakes (as test/deploy/bundle.test.ts does).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    NODE_OPTIONS: '--enable-source-maps',
    LOG_LEVEL: 'error',
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'example-secret',
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
    // The worker reads the account's IAM quotas as it starts: nothing may leave loopback.
    AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:9',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Lambda runs Node 22, where the SDK prints no Node 20 deprecation warning.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    KEYTURN_CONFIG_JSON: COMPILED_CONFIG_FILE,
    KEYTURN_TABLE: 'keyturn-bench',
    KEYTURN_QUEUE_URL: 'http://127.0.0.1:9/queue/keyturn-bench-jobs',
    SLACK_BOT_TOKEN_PARAM: '/keyturn/bench/slack-bot-token',
    SLACK_SIGNING_SECRET_PARAM: '/keyturn/bench/slack-signing-secret',
    // The minimal app takes its secrets from the environment, as such apps usually do.
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    SLACK_BOT_ID: 'B0KEYTURN',
    SLACK_BOT_USER_ID: 'U0KEYTURN',
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
  };
  // Keyturn must read its secrets from SSM as deployed, not from these two variables.
  const keyturnEnv = { ...env, SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined };
  const times = new Map<string, Timed[]>(built.map((b) => [b.name, []]));
  try {
    // Round-robin, so drift in the machine's speed spreads over every bundle alike.
    for (let run = 0; run < runs; run++) {
      for (const b of built) {
        const bEnv =
          b.name === MINIMAL
            ? env
            : b.secretsFromEnv
              ? { ...env, SLACK_BOT_TOKEN_PARAM: undefined, SLACK_SIGNING_SECRET_PARAM: undefined }
              : keyturnEnv;
        times.get(b.name)?.push(await timeOnce(b, bEnv, run));
      }
    }
  } finally {
    ssm.server.close();
  }
  const all = built.map((b): BundleResult => {
    const t = times.get(b.name) ?? [];
    const js = readFileSync(b.bundle);
    const answers: Record<string, number> = {};
    for (const x of t) answers[x.answer] = (answers[x.answer] ?? 0) + 1;
    return {
      name: b.name,
      entry: b.entry,
      bytes: statSync(b.bundle).size,
      gzipBytes: gzipSync(js, { level: 9 }).length,
      initIncludes: b.initIncludes,
      largest: b.largest,
      runs: t.length,
      processMedianMs: round(median(t.map((x) => x.processMs)), 1),
      initMedianMs: round(median(t.map((x) => x.initMs)), 1),
      requireMedianMs: round(median(t.map((x) => x.requireMs)), 1),
      answers,
    };
  });
  const variants = new Set(built.filter((b) => b.secretsFromEnv !== undefined).map((b) => b.name));
  const bundles = all.filter((b) => !variants.has(b.name));
  const slack = bundles.find((b) => b.name === 'slack');
  const minimal = bundles.find((b) => b.name === MINIMAL);
  if (!slack || !minimal) throw new Error('the slack function or the minimal app was not built');
  const { alias, external, target, minify, sourcemap, format, platform, mainFields } = options;
  const plugins = options.plugins?.map((p) => p.name) ?? [];
  return {
    runs,
    nodeVersion: process.version,
    esbuild: { target, platform, format, minify, sourcemap, mainFields, alias, external, plugins },
    bundles,
    slackRatio: {
      process: round(slack.processMedianMs / minimal.processMedianMs),
      init: round(slack.initMedianMs / minimal.initMedianMs),
    },
    ...(variants.size > 0
      ? {
          attribution: all
            .filter((b) => variants.has(b.name))
            .map((b) => ({
              name: b.name,
              bytes: b.bytes,
              processMedianMs: b.processMedianMs,
              initMedianMs: b.initMedianMs,
              ratio: round(b.processMedianMs / minimal.processMedianMs),
            })),
        }
      : {}),
  };
}

if (require.main === module) {
  // `npx tsx bench/cold-start.ts <out.json> [runs] [--attribution] [--slack-only]`
  childMain((args) => {
    const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? '15');
    return measureColdStart(runs, {
      attribution: args.includes('--attribution'),
      slackOnly: args.includes('--slack-only'),
    });
  });
}
