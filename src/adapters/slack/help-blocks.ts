import { type AwsProfile, profileText } from '../../domain/person';
import { escapeMrkdwn } from './block-kit';

/**
 * The access role's profile, pasted once into ~/.aws/config; every command below names it. Exported
 * for `/access help`, which shows the same section at any time.
 */
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
