import type { z } from 'zod';
import { isRecord, strictObject } from './common';
import { checkPeopleAreDistinct, people } from './people';
import { aws, checkAccounts, checkPlaces, commandOutput, digest, sandbox, slack } from './settings';
import { checkSnippetTargets, snippets } from './snippets';
import { checkRunnersArePeople, targets } from './targets';

/*
 * The shape of keyturn.yml, one file per section with its rules beside it: people.ts, targets.ts,
 * snippets.ts, and settings.ts for the rest (aws, slack, digest, commandOutput, sandbox); common.ts holds
 * the building blocks and how a rule is worded, tags.ts the tag rules targets and the sandbox fleet share.
 * Here the sections are put together, and the checks that read across them run.
 */

export { KNOWN_KEYS_MARK } from './common';

export const configSchema = strictObject(
  {
    aws,
    slack,
    people,
    targets,
    snippets,
    digest: digest.prefault({}),
    commandOutput: commandOutput.optional(),
    sandbox: sandbox.prefault({}),
  },
  'a YAML mapping with aws, slack, people and targets',
).superRefine(
  (config, ctx) => {
    // Runs even when other parts failed (see `when`), so a dangling reference is reported in the same pass;
    // hence the defensive reads: parts of `config` may be missing or half-parsed.
    checkPeopleAreDistinct(config?.people, ctx);
    checkAccounts(config?.aws, ctx);
    if (isRecord(config)) checkPlaces(config, ctx);
    if (!isRecord(config?.targets)) return;
    checkRunnersArePeople(config.targets, config?.people, ctx);
    checkSnippetTargets(isRecord(config?.snippets) ? config.snippets : {}, config.targets, ctx);
  },
  { when: () => true },
);

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
