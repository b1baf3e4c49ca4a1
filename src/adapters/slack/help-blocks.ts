import { type AwsProfile, profileText } from '../../domain/person';
import { escapeMrkdwn } from './block-kit';

/*
 * How to reach AWS as the access role: the section `/access help` shows at any time (replies.ts) and
 * the ready DM repeats (notice-blocks.ts), and the `--profile` flag of every command the DM gives.
 */

/** The access role's profile, pasted once into ~/.aws/config; every command in the ready DM names it. */
export function profileSection(profile: AwsProfile): string {
  return [
    `*Once:* add this to \`~/.aws/config\` (\`source_profile\`: ${escapeMrkdwn(profile.sourceProfile.meaning)}):`,
    `\`\`\`${escapeMrkdwn(profileText(profile))}\`\`\``,
  ].join('\n');
}

/** `--profile keyturn ` when the person acts through an access role, else nothing (direct attach). */
export function profileFlag(profile: AwsProfile | undefined): string {
  return profile ? `--profile ${escapeMrkdwn(profile.name)} ` : '';
}
