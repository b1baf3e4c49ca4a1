import { type AwsProfile, profileText } from '../../domain/person';
import { escapeMrkdwn } from './block-kit';

/*
 * How to reach AWS as the access role: the section `/access help` shows at any time (replies.ts) and
 * the ready DM repeats (notice-blocks.ts), and the `--profile` flag of every command the DM gives.
 */

/** The access role's profile, pasted once into ~/.aws/config; every command in the ready DM names it. */
export function profileSection(profile: AwsProfile): string {
  return profilesSection([profile]);
}

/**
 * The person's access-role profiles, one per account (`keyturn`, `keyturn-factory`, …), pasted once
 * into ~/.aws/config. They differ only in account and region, so they share one explanation.
 */
export function profilesSection(profiles: readonly AwsProfile[]): string {
  const first = profiles[0];
  if (first === undefined) return '';
  const these = profiles.length === 1 ? 'this' : `these ${profiles.length} profiles (one per account)`;
  return [
    `*Once:* add ${these} to \`~/.aws/config\` (\`source_profile\`: ${escapeMrkdwn(first.sourceProfile.meaning)}):`,
    `\`\`\`${escapeMrkdwn(profiles.map(profileText).join('\n\n'))}\`\`\``,
  ].join('\n');
}

/** `--profile keyturn ` when the person acts through an access role, else nothing (direct attach). */
export function profileFlag(profile: AwsProfile | undefined): string {
  return profile ? `--profile ${escapeMrkdwn(profile.name)} ` : '';
}
