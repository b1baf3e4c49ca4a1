/**
 * osls plugin: adds the access boundary and the people's access roles (deploy/stack.ts
 * accessRoleStacks, built from keyturn.yml by the functions' own loader) to the main stack. When
 * there are more people than one stack should hold, it writes the roles as standalone templates
 * `.serverless/keyturn-access-roles-<n>.json` instead, to deploy after the main stack (docs/deploy.md).
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
    Object.assign(template.Resources, stacks.main);

    const outDir = path.join(this.serverless.serviceDir ?? this.serverless.config.servicePath, '.serverless');
    mkdirSync(outDir, { recursive: true });
    for (const stale of readdirSync(outDir).filter((f) => /^keyturn-access-roles-\d+\.json$/.test(f))) {
      rmSync(path.join(outDir, stale));
    }
    stacks.people.forEach((stack, i) => {
      const file = path.join(outDir, `keyturn-access-roles-${i + 1}.json`);
      writeFileSync(file, `${JSON.stringify(stack, null, 2)}\n`);
      this.serverless.cli.log(
        `keyturn: access roles in ${path.relative(process.cwd(), file)} (deploy after the main stack)`,
      );
    });
  }
}

module.exports = KeyturnAccessRoles;
