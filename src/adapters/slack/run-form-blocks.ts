import type { ModalView, PlainTextOption } from '@slack/types';
import type { RunHelpEntry } from '../../app/run-snippet';
import { MAX_PARAM_VALUE_CHARS, type Snippet } from '../../domain/snippet';
import {
  BLOCK_RUN_PARAM_PREFIX,
  BLOCK_RUN_PICK,
  INPUT_RUN_PARAM,
  INPUT_RUN_PICK,
  VIEW_RUN_FORM,
  VIEW_RUN_PARAMS,
} from './action-ids';
import { plain } from './block-kit';

/** Slack's caps: titles 24 characters, option text and description 75, 100 options, 2,000 for labels and hints. */
const MAX_TITLE = 24;
const MAX_OPTION_TEXT = 75;
const MAX_OPTIONS = 100;
const MAX_LABEL = 2000;

/** What the run form's second step needs to know about the first: where to run, and what. */
export interface RunFormState {
  channel: string;
  target: string;
  snippet: string;
}

function pickOption(target: string, s: Snippet): PlainTextOption {
  const notes = [
    s.description,
    Object.keys(s.params).length > 0 ? `takes ${Object.keys(s.params).join(', ')}` : '',
    s.approval ? 'needs approval' : '',
  ].filter(Boolean);
  return {
    text: plain(`${s.name} on ${target}`, MAX_OPTION_TEXT),
    // Target and snippet names are config keys: no spaces (src/config/schema/targets.ts).
    value: `${target} ${s.name}`,
    ...(notes.length > 0 ? { description: plain(notes.join(' · '), MAX_OPTION_TEXT) } : {}),
  };
}

/** Step one of a bare `/run`: pick a snippet on a target, among those the person may run now. */
export function runForm(entries: readonly RunHelpEntry[], channel: string): ModalView {
  const options = entries
    .filter((e) => e.permission.allowed)
    .flatMap((e) => e.snippets.map((s) => pickOption(e.target.name, s)))
    .slice(0, MAX_OPTIONS);
  return {
    type: 'modal',
    callback_id: VIEW_RUN_FORM,
    // private_metadata comes back untouched in view_submission: the channel the output goes to.
    private_metadata: channel,
    title: plain('Run a snippet', MAX_TITLE),
    submit: plain('Next', MAX_TITLE),
    close: plain('Cancel', MAX_TITLE),
    blocks: [
      {
        type: 'input',
        block_id: BLOCK_RUN_PICK,
        label: plain('Snippet and target', MAX_LABEL),
        hint: plain(
          'The output is posted per node in a thread in the channel where you typed /run.',
          MAX_LABEL,
        ),
        element: {
          type: 'static_select',
          action_id: INPUT_RUN_PICK,
          placeholder: plain('Pick what to run', 150),
          options,
          ...(options.length === 1 && options[0] ? { initial_option: options[0] } : {}),
        },
      },
    ],
  };
}

/** Step two: one field per parameter, its default filled in, its pattern named. */
export function runParamsForm(state: RunFormState, snippet: Snippet): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_RUN_PARAMS,
    private_metadata: JSON.stringify(state),
    title: plain(`Run ${snippet.name}`, MAX_TITLE),
    submit: plain('Run', MAX_TITLE),
    close: plain('Cancel', MAX_TITLE),
    blocks: Object.entries(snippet.params).map(([name, param]) => ({
      type: 'input' as const,
      block_id: `${BLOCK_RUN_PARAM_PREFIX}${name}`,
      label: plain(name, MAX_LABEL),
      // Left empty, a parameter with a default gets it, as when `name=` is not typed.
      optional: param.default !== undefined,
      hint: plain(
        `${param.description ? `${param.description}. ` : ''}Must match ${param.pattern} in full.`,
        MAX_LABEL,
      ),
      element: {
        type: 'plain_text_input' as const,
        action_id: INPUT_RUN_PARAM,
        max_length: MAX_PARAM_VALUE_CHARS,
        ...(param.default !== undefined ? { initial_value: param.default } : {}),
      },
    })),
  };
}

type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value?: string } | null }>
>;

/** The picked `target snippet`, or undefined when nothing (or something malformed) was picked. */
export function readRunPick(values: StateValues): { target: string; snippet: string } | undefined {
  const [target, snippet] = (values[BLOCK_RUN_PICK]?.[INPUT_RUN_PICK]?.selected_option?.value ?? '').split(
    ' ',
  );
  return target && snippet ? { target, snippet } : undefined;
}

/** The parameters' values by name; a field left empty is left out, so its default applies. */
export function readRunParams(values: StateValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [blockId, inputs] of Object.entries(values)) {
    if (!blockId.startsWith(BLOCK_RUN_PARAM_PREFIX)) continue;
    const value = inputs[INPUT_RUN_PARAM]?.value;
    if (value !== undefined && value !== null && value !== '')
      out[blockId.slice(BLOCK_RUN_PARAM_PREFIX.length)] = value;
  }
  return out;
}

export function readRunFormState(privateMetadata: string): RunFormState | undefined {
  try {
    const s = JSON.parse(privateMetadata) as Partial<RunFormState>;
    return typeof s.channel === 'string' && typeof s.target === 'string' && typeof s.snippet === 'string'
      ? { channel: s.channel, target: s.target, snippet: s.snippet }
      : undefined;
  } catch {
    return undefined;
  }
}
