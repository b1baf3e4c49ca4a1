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

module.exports = [slackDynamoDB];
