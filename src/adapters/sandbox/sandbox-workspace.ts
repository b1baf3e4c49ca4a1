import type { Config } from '../../config/types';
import { describeIdentity, personPrincipal, roleSessionName } from '../../domain/person';
import { assumedRoleArn, describePrincipal, principalArn } from '../../domain/principal';
import { isUserGroupId } from '../../domain/target';

/** The bot user the sandbox's Slack answers auth.test with (fake-slack-api.ts). */
export const SANDBOX_BOT_USER = 'UKEYTURN';
/** The channel the page opens in and types commands into: any channel works, this is the ops team's own. */
export const WORK_CHANNEL = 'C0WORK';

export interface SandboxPerson {
  id: string;
  name: string;
  /** "IAM user alice", or undefined for someone Keyturn would refuse (not in `people`). */
  principal?: string;
  /** The ARN IAM names in an AccessDenied for them: their access role's session, or their own user/role. */
  arn?: string;
  /** Targets whose approvers name this person, directly or through a user group. */
  approverOf: string[];
}

export interface SandboxChannel {
  id: string;
  name: string;
  /** What it is for, shown under the channel name. */
  purpose: string;
}

/**
 * The simulated workspace derived from the config: who can be picked on the page (the mapped people,
 * then approvers and user-group members who are not mapped), and the channels Keyturn posts in.
 */
export function sandboxWorkspace(config: Config): { people: SandboxPerson[]; channels: SandboxChannel[] } {
  const ids = new Set(Object.keys(config.people));
  for (const target of Object.values(config.targets))
    for (const id of target.approvers) if (!isUserGroupId(id)) ids.add(id);
  for (const members of Object.values(config.sandbox.userGroups)) for (const id of members) ids.add(id);

  const people = [...ids].map((id) => {
    const mapped = Object.hasOwn(config.people, id) ? config.people[id] : undefined;
    const approverOf = Object.values(config.targets)
      .filter((t) =>
        t.approvers.some((a) => a === id || (isUserGroupId(a) && config.sandbox.userGroups[a]?.includes(id))),
      )
      .map((t) => t.name);
    const person: SandboxPerson = {
      id,
      name: personName(id, mapped && roleSessionName(mapped.identity)),
      approverOf,
    };
    if (mapped) {
      const principal = personPrincipal(mapped);
      person.principal =
        principal.kind === 'access-role'
          ? `${describePrincipal(principal)} (assumed by ${describeIdentity(mapped.identity)})`
          : describePrincipal(principal);
      person.arn =
        principal.kind === 'user'
          ? principalArn(config.aws, principal)
          : assumedRoleArn(
              config.aws,
              principal.name,
              principal.kind === 'access-role' ? principal.sessionName : principal.name,
            );
    }
    return person;
  });

  const { requestsChannel, auditChannel } = config.slack;
  const channels: SandboxChannel[] = [
    { id: WORK_CHANNEL, name: 'ops', purpose: 'a working channel: type /access or /run here' },
    { id: requestsChannel, name: 'ops-approvals', purpose: 'approval cards (slack.requestsChannel)' },
    { id: auditChannel, name: 'ops-audit', purpose: 'audit messages and the digest (slack.auditChannel)' },
  ];
  // One channel may serve both purposes; show it once.
  return { people, channels: channels.filter((c, i) => channels.findIndex((o) => o.id === c.id) === i) };
}

/**
 * Display names for every id a message may mention: people, the bot, user groups, channels. The
 * example's ids spell the name (`U0ALICE` → alice); other ids fall back to the IAM name, then the id.
 */
export function sandboxNames(config: Config): Record<string, string> {
  const { people, channels } = sandboxWorkspace(config);
  const names: Record<string, string> = { [SANDBOX_BOT_USER]: 'keyturn' };
  for (const p of people) names[p.id] = p.name;
  for (const c of channels) names[c.id] = c.name;
  for (const group of Object.keys(config.sandbox.userGroups)) names[group] = spelledName(group) ?? group;
  return names;
}

function personName(id: string, iamName: string | undefined): string {
  return spelledName(id) ?? iamName ?? id;
}

/** `U0ALICE` → alice, `S0SREGROUP` → sregroup; real Slack ids (`U07AB12CD`) have digits and spell nothing. */
function spelledName(id: string): string | undefined {
  const m = /^[UWS]0([A-Z]{2,})$/.exec(id);
  return m?.[1]?.toLowerCase();
}
