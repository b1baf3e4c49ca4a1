/**
 * esbuild plugins for every function's bundle (serverless.yml `custom.esbuild.plugins`; bench/cold-start.ts
 * applies the same file to the minimal Bolt app). serverless-esbuild gives all functions one set of
 * options, so a choice for one function is made here, by its entry point.
 *
 * The slack function's DynamoDB: dynamodb-toolbox imports its commands from `@aws-sdk/lib-dynamodb`
 * (`new PutCommand(params)`, then `documentClient.send(command)`). In the slack bundle that import
 * resolves to src/adapters/aws/signed-dynamodb.ts, whose commands hold their input for the signed
 * document client the slack root builds (src/main/lambda-slack.ts), so no AWS SDK client is bundled
 * there (BENCHMARKS.md, item 3). Every other function keeps the SDK's lib-dynamodb.
 */
const path = require('node:path');

const SLACK_ENTRY = 'handlers/slack.ts';
const SIGNED_DYNAMODB = path.join(__dirname, '..', 'src', 'adapters', 'aws', 'signed-dynamodb.ts');

const slackDynamoDB = {
  name: 'keyturn-slack-dynamodb',
  setup(build) {
    const entries = build.initialOptions.entryPoints;
    const list = Array.isArray(entries) ? entries : Object.values(entries ?? {});
    const slack = list.some((e) => {
      const file = typeof e === 'string' ? e : e.in;
      const root = build.initialOptions.absWorkingDir ?? process.cwd();
      return path.relative(root, path.resolve(root, file)) === SLACK_ENTRY;
    });
    if (!slack) return;
    build.onResolve({ filter: /^@aws-sdk\/lib-dynamodb$/ }, () => ({ path: SIGNED_DYNAMODB }));
  },
};

/**
 * dynamodb-toolbox declares no `sideEffects` in its package.json, so esbuild keeps every module its
 * index re-exports: the ~37 KiB of actions no function builds (scans, batches, transactions, …), parsed
 * on every cold start. Its modules' top-level code only defines classes and functions (the one
 * decorator call in each command's module decorates that module's own class), so declaring them free of
 * side effects drops only what nothing imports. test/deploy/bundle.test.ts boots the bundles.
 */
const TOOLBOX = `${path.sep}node_modules${path.sep}dynamodb-toolbox${path.sep}`;
const toolboxSideEffectFree = {
  name: 'keyturn-dynamodb-toolbox-side-effect-free',
  setup(build) {
    build.onResolve({ filter: /^dynamodb-toolbox$|^\.\.?\// }, async (args) => {
      if (args.pluginData === toolboxSideEffectFree.name) return undefined;
      if (args.path !== 'dynamodb-toolbox' && !args.importer.includes(TOOLBOX)) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: toolboxSideEffectFree.name,
      });
      if (resolved.errors.length > 0 || !resolved.path.includes(TOOLBOX)) return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

module.exports = [slackDynamoDB, toolboxSideEffectFree];
