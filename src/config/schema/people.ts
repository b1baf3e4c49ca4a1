import { z } from 'zod';
import { issue, isRecord, slackUserId, strictObject, text } from './common';

/*
 * people: each Slack user mapped to exactly one AWS identity (an IAM user, an Identity Center user, or an
 * IAM role, shared roles told apart by session name), with the cross-check that no two people are the same
 * AWS identity.
 */

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html (and CreateRole): 1–64 of [\w+=,.@-]
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
// An IAM user or role name, optionally behind its path: `alice`, `engineering/erin` (CreateUser,
// CreateRole: path segments of [\x21-\x7E] without /; the name itself is IAM_NAME).
const IAM_NAME_WITH_PATH = new RegExp(`^([!-.0-~]+/)*${IAM_NAME.source.slice(1, -1)}$`);
const IAM_USER_WITH_PATH = IAM_NAME_WITH_PATH;
// sts:AssumeRole RoleSessionName: 2–64 of [\w+=,.@-] (AssumeRole API reference).
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const sessionName = (what: string) =>
  text().regex(ROLE_SESSION_NAME, {
    error: `is not usable as ${what} (a role session name: 2–64 letters, digits and +=,.@_-)`,
  });

const person = strictObject(
  {
    iamUser: text()
      .regex(IAM_USER_WITH_PATH, {
        error:
          'is not an IAM user name (1–64 letters, digits and +=,.@_-), optionally after its path (engineering/erin)',
      })
      .optional(),
    identityCenter: sessionName('an Identity Center user name').optional(),
    iamRole: text()
      .regex(IAM_NAME_WITH_PATH, {
        error:
          'is not an IAM role name (1–64 letters, digits and +=,.@_-), optionally after its path (service/oncall)',
      })
      .optional(),
    sessionName: sessionName('a session name').optional(),
    attach: z
      .enum(['direct'], { error: "is not 'direct' (leave attach out to use a Keyturn access role)" })
      .optional(),
  },
  'a mapping with iamUser, identityCenter or iamRole',
).superRefine((p, ctx) => {
  // One Slack user, one AWS identity: exactly one person may assume the access role.
  const set = (['iamUser', 'identityCenter', 'iamRole'] as const).filter((k) => p[k] !== undefined);
  if (set.length > 1)
    issue(
      ctx,
      `sets ${set.join(' and ')}; map each Slack user to exactly one of iamUser, identityCenter, iamRole`,
      [],
      false,
    );
  if (set.length === 0)
    issue(
      ctx,
      'sets none of iamUser, identityCenter, iamRole; map each Slack user to exactly one of them',
      [],
      false,
    );
  if (p.sessionName !== undefined && p.iamRole === undefined)
    issue(
      ctx,
      'sets sessionName without iamRole; sessionName picks one person out of a shared role',
      ['sessionName'],
      false,
    );
  // IAM Identity Center permission-set roles are protected: attach, detach and tag fail with UnmodifiableEntity
  // (FACTS.md, Session Manager), and their ARNs carry a path a plain role name cannot express.
  if (p.iamRole?.split('/').at(-1)?.startsWith('AWSReservedSSO_'))
    issue(
      ctx,
      'is an IAM Identity Center permission-set role, which IAM will not let Keyturn attach to or trust by name; map the person with { identityCenter: <their Identity Center user name> }',
      ['iamRole'],
    );
  if (p.attach === 'direct') {
    if (p.identityCenter !== undefined)
      issue(
        ctx,
        "is 'direct' for an Identity Center user: their AWSReservedSSO_* roles refuse attach and tag (UnmodifiableEntity); leave attach out",
        ['attach'],
        false,
      );
    if (p.sessionName !== undefined)
      issue(
        ctx,
        "is 'direct' for a shared role (sessionName): a policy attached to the role reaches everyone who assumes it; leave attach out",
        ['attach'],
        false,
      );
  }
});

export const people = z.record(slackUserId, person, {
  error: 'is not a mapping of Slack user id → { iamUser | identityCenter | iamRole }',
});

/**
 * Each access role admits exactly one person: two Slack users resolving to the same AWS identity would
 * be indistinguishable to IAM and to Session Manager (one could use the other's grants).
 */
export function checkPeopleAreDistinct(people: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!isRecord(people)) return;
  const seen = new Map<string, string>();
  const roleUsers = new Map<string, string[]>();
  for (const [id, p] of Object.entries(people)) {
    if (!isRecord(p)) continue;
    let key: string | undefined;
    if (typeof p.iamUser === 'string') key = `IAM user ${p.iamUser.split('/').at(-1)}`;
    else if (typeof p.identityCenter === 'string') key = `Identity Center user ${p.identityCenter}`;
    else if (typeof p.iamRole === 'string') {
      // Role names are unique per account whatever their path.
      const role = (p.iamRole.split('/').at(-1) ?? '').toLowerCase();
      roleUsers.set(role, [...(roleUsers.get(role) ?? []), id]);
      key = typeof p.sessionName === 'string' ? `IAM role ${p.iamRole} as ${p.sessionName}` : undefined;
    }
    if (key === undefined) continue;
    const other = seen.get(key.toLowerCase());
    if (other !== undefined)
      issue(
        ctx,
        `is the same ${key} as ${other}; map each AWS identity to one Slack user`,
        ['people', id],
        false,
      );
    else seen.set(key.toLowerCase(), id);
  }
  for (const [role, ids] of roleUsers) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      const p = people[id];
      if (isRecord(p) && p.sessionName === undefined)
        issue(
          ctx,
          `maps to IAM role ${role}, which ${ids.filter((o) => o !== id).join(', ')} also use; a shared role needs a sessionName per person ({ iamRole: ${role}, sessionName: <their session name> })`,
          ['people', id],
          false,
        );
    }
  }
}
