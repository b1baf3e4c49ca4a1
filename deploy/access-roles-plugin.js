/**
 * osls plugin: adds the access boundary and the people's access roles (deploy/stack.ts
 * accessRoleStacks, built from keyturn.yml by the functions' own loader) to the main stack. When
 * there are more people than one stack should hold, it writes the roles as standalone templates
 * `.serverless/keyturn-access-roles-<n>.json` instead, to deploy after the main stack (docs/deploy.md).
 * For an organisation (deploy/grantor.ts) it adds the default bus's policy for the member accounts, and
 * writes `.serverless/keyturn-grantor.json` (with member accounts) and `.serverless/keyturn-forwarder.json`.
 */
const { mkdirSync, writeFileSync, readdirSync, rmSync } = require('node:fs');
const path = require('node:path');
const resolve = require('./resolve.js');

class KeyturnAccessRoles {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'package:compileEvents': () => this.addAccessRoles() };
  }

  addAccessRoles() {
    const stacks = resolve.accessRoleStacks();
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    Object.assign(template.Resources, stacks.main, resolve.eventBusPolicy());

    const outDir = path.join(this.serverless.serviceDir ?? this.serverless.config.servicePath, '.serverless');
    mkdirSync(outDir, { recursive: true });
    for (const stale of readdirSync(outDir).filter(
      (f) =>
        /^keyturn-(grantor-)?access-roles-\d+\.json$/.test(f) ||
        /^keyturn-(grantor|forwarder)\.json$/.test(f),
    )) {
      rmSync(path.join(outDir, stale));
    }
    const write = (name, body, what) => {
      const file = path.join(outDir, name);
      writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
      this.serverless.cli.log(`keyturn: ${what} in ${path.relative(process.cwd(), file)}`);
    };
    stacks.people.forEach((stack, i) => {
      write(`keyturn-access-roles-${i + 1}.json`, stack, 'access roles (deploy after the main stack)');
    });
    const defaults = { functionsRoleName: this.functionsRoleName(template) };
    for (const { file, template: body } of resolve.organisationTemplates(defaults)) {
      const what = file.startsWith('keyturn-grantor-access-roles-')
        ? "member accounts' access roles (deploy after the grantor template)"
        : file.includes('grantor')
          ? 'grantor template (each member account)'
          : 'event forwarder (each other region)';
      write(file, body, what);
    }
  }

  /** The functions' role's name as this package names it (`keyturn-<stage>-<region>-lambdaRole`), if it can tell. */
  functionsRoleName(template) {
    const name = template.Resources.IamRoleLambdaExecution?.Properties?.RoleName;
    const join = name?.['Fn::Join'];
    if (typeof name === 'string') return name;
    if (!Array.isArray(join) || !Array.isArray(join[1])) return undefined;
    const region = this.serverless.service.provider.region;
    const parts = join[1].map((p) => (p?.Ref === 'AWS::Region' ? region : p));
    return parts.every((p) => typeof p === 'string') ? parts.join(join[0]) : undefined;
  }
}

module.exports = KeyturnAccessRoles;
