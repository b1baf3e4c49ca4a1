import { z } from 'zod';
import { issue, text } from './common';

/* The tag rules targets and the sandbox fleet share. */

/**
 * A tag becomes `StringEquals ssm:resourceTag/<key>: <value>` in the grant policy, the only thing that
 * narrows `instance/*` to one fleet. `*`/`?` are wildcards to StringLike and in ARNs, quotes and control
 * characters break out of JSON values and Slack text, `${` starts an IAM policy variable (expanded even in
 * StringEquals). The policy renderer re-checks the same characters (src/domain/policy.ts).
 */
function forbiddenInTag(s: string): string | undefined {
  const wildcard = /[*?]/.exec(s);
  if (wildcard) return `the wildcard '${wildcard[0]}'`;
  const quote = /["'`]/.exec(s);
  if (quote) return `the quote ${quote[0] === "'" ? `"'"` : `'${quote[0]}'`}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  const control = /[\u0000-\u001f\u007f]/.exec(s);
  if (control)
    return `a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
  if (s.includes('${')) return "'${', which IAM reads as a policy variable";
  return undefined;
}

function tagText(part: 'key' | 'value', maxLength: number) {
  return text().superRefine((s, ctx) => {
    if (s.length === 0) issue(ctx, `is empty; a tag ${part} must have at least one character`);
    if (s.length > maxLength)
      issue(ctx, `is ${s.length} characters long; a tag ${part} may have at most ${maxLength}`);
    const bad = forbiddenInTag(s);
    if (bad) issue(ctx, `contains ${bad}; tag ${part}s may not contain *, ?, quotes or control characters`);
    if (part === 'key' && /^aws:/i.test(s))
      issue(ctx, "starts with 'aws:', a prefix AWS reserves for its own tags");
  });
}

// https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html: keys ≤ 128, values ≤ 256 characters.
export const tagMap = () =>
  z.record(tagText('key', 128), tagText('value', 256), { error: 'is not a mapping of tag key: value' });
