/**
 * Serverless variable source: `${file(./deploy/resolve.js):<name>}` in serverless.yml. It reads
 * keyturn.yml through the real config loader (TypeScript, loaded with tsx) once per `osls` run, so
 * a config the functions would refuse at cold start also fails packaging.
 */
const path = require('node:path');
const tsx = require('tsx/cjs/api');

const stack = tsx.require('./stack.ts', __filename);
const grantor = tsx.require('./grantor.ts', __filename);
const serviceDir = path.resolve(__dirname, '..');

let deployConfig;
function load() {
  deployConfig ??= stack.loadDeployConfig({
    serviceDir,
    env: process.env,
    log: (msg) => process.stderr.write(`keyturn: ${msg}\n`),
  });
  return deployConfig;
}

async function secretParameterNames(resolveVariable) {
  return {
    slackBotToken: stack.checkParameterName(
      'slackBotTokenParameter',
      await resolveVariable('self:custom.keyturn.slackBotTokenParameter'),
    ),
    slackSigningSecret: stack.checkParameterName(
      'slackSigningSecretParameter',
      await resolveVariable('self:custom.keyturn.slackSigningSecretParameter'),
    ),
  };
}

module.exports = {
  configFile: () => load().configFile,
  // Written once per `osls` run, from the config validated above; the functions read it at cold start.
  compiledConfig: () => stack.writeCompiledConfig(serviceDir, load()),
  region: () => load().config.aws.region,
  digestSchedule: () => stack.digestSchedule(load().config),
  alarmActions: async ({ resolveVariable }) =>
    stack.alarmActions(await resolveVariable('param:alarmTopicArn')),
  tableProperties: async ({ resolveVariable }) =>
    stack.tableProperties(await resolveVariable('self:custom.keyturn.tableName')),
  accessRoleStacks: () => stack.accessRoleStacks(load().config),
  // The organisation's side (deploy/grantor.ts): the bus policy for member accounts, the rules' patterns,
  // and the grantor and forwarder templates.
  eventBusPolicy: () => grantor.eventBusPolicy(load().config),
  sessionEventsPattern: () => grantor.sessionEventsPattern(load().config),
  commandEventsPattern: () => grantor.commandEventsPattern(load().config),
  eventBusArn: () => grantor.homeEventBusArn(load().config),
  organisationTemplates: (defaults) => grantor.organisationTemplates(load().config, defaults),
  roleStatements: async ({ resolveVariable }) => {
    const { config } = load();
    stack.checkRegion(config, await resolveVariable('self:provider.region'));
    return stack.roleStatements(config, await secretParameterNames(resolveVariable));
  },
};
