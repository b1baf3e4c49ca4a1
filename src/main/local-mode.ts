import type { Config } from '../config/types';

/** The channel ids in keyturn.example.yml: they exist in the sandbox's Slack, never in a real workspace. */
export const EXAMPLE_CHANNELS: Readonly<Record<'requestsChannel' | 'auditChannel', string>> = {
  requestsChannel: 'C0APPROVALS',
  auditChannel: 'C0AUDIT',
};

/**
 * Why a real workspace cannot be served with this config, one line per problem; empty when it can.
 * With the example's channels every approval card would fail with `channel_not_found` long after
 * start, and with no people every request would be refused, so local mode refuses up front instead.
 */
export function localModeProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const key of ['requestsChannel', 'auditChannel'] as const) {
    const id = config.slack[key];
    if (id === EXAMPLE_CHANNELS[key])
      problems.push(
        `slack.${key} is ${id}, the example's placeholder: set it to a channel id of your workspace (channel details → copy channel ID)`,
      );
  }
  if (Object.keys(config.people).length === 0)
    problems.push(
      'people is empty: map at least one Slack user id to an IAM user or role, or nobody can request access',
    );
  return problems;
}
