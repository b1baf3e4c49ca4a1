type Env = Record<string, string | undefined>;

/**
 * Why sandbox mode (no SLACK_BOT_TOKEN) must not start in this environment, one line per variable;
 * empty when it may. The sandbox simulates AWS and Slack: given KEYTURN_TABLE it would store its
 * simulated grants, "active" ones included, in that real table (keyturn-prod, say), and an
 * AWS_ENDPOINT_URL* says the operator expects AWS calls to go somewhere the sandbox never calls.
 * Either way the operator meant local mode or a different shell, so say so instead of guessing.
 */
export function sandboxEnvProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.KEYTURN_TABLE)
    problems.push(
      `KEYTURN_TABLE is set (${env.KEYTURN_TABLE}): the sandbox would write its simulated grants into that real table. ` +
        'To try the sandbox, unset KEYTURN_TABLE (it keeps its own embedded DynamoDB in .keyturn/); ' +
        'to run Keyturn against that table, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) for local mode',
    );
  for (const name of Object.keys(env).sort()) {
    if (!/^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$/.test(name) || !env[name]) continue;
    problems.push(
      `${name} is set (${env[name]}): the sandbox simulates AWS and would send nothing there. ` +
        `To try the sandbox, unset ${name}; to run Keyturn against that endpoint, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) for local mode`,
    );
  }
  return problems;
}
