import type { ModalView, PlainTextOption, View } from '@slack/types';
import type { RequestRefusal } from '../../app/request-access';
import { MAX_REASON_CHARS } from '../../domain/access-command';
import { describeDurationError, formatDuration } from '../../domain/duration';
import { type ServedPlaces, whereShown } from '../../domain/place';
import type { Target } from '../../domain/target';
import {
  BLOCK_REQUEST_DURATION,
  BLOCK_REQUEST_REASON,
  BLOCK_REQUEST_TARGET,
  INPUT_REQUEST_DURATION,
  INPUT_REQUEST_REASON,
  INPUT_REQUEST_TARGET,
  VIEW_REQUEST_FORM,
} from './action-ids';
import { plain, section } from './block-kit';
import { directAttachText } from './replies';

/*
 * Slack limits for modals and selects (https://docs.slack.dev/reference/block-kit/composition-objects/option-object,
 * https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element): title, submit and
 * close 24 characters, option text and description 75, at most 100 options per static select.
 */
const MAX_TITLE = 24;
const MAX_OPTION_TEXT = 75;
const MAX_OPTIONS = 100;

/** The value of the duration option that means "the target's own default". */
export const DEFAULT_DURATION_VALUE = 'default';

/** Lengths offered besides each target's default and maximum; longer than every target allows are left out. */
const COMMON_MINUTES = [15, 30, 60, 120, 180, 240, 360, 480, 720];

function option(text: string, value: string, description?: string): PlainTextOption {
  return {
    text: plain(text, MAX_OPTION_TEXT),
    value,
    ...(description ? { description: plain(description, MAX_OPTION_TEXT) } : {}),
  };
}

function limits(t: Target): string {
  return `default ${formatDuration(t.defaultDurationMinutes)}, up to ${formatDuration(t.maxDurationMinutes)}`;
}

/** `osaka-raspi (factory, ap-northeast-3)`: short, as option text is 75 characters; the name alone with one place. */
function targetOption(t: Target, served: ServedPlaces | undefined): PlainTextOption {
  const many = served !== undefined && whereShown(served, t) !== undefined;
  const account = served?.accounts[t.account]?.alias ?? t.account;
  const text = many ? `${t.name} (${account}, ${t.region})` : t.name;
  return option(text, t.name, t.description ? `${t.description} · ${limits(t)}` : limits(t));
}

/**
 * The durations a form offers: the common ones up to the longest any target allows, plus every
 * target's default and maximum. A static select cannot change with the target picked, so a length
 * over the picked target's maximum is refused on submit, on the duration field, like the command.
 */
export function durationChoices(targets: readonly Target[]): number[] {
  const longest = Math.max(0, ...targets.map((t) => t.maxDurationMinutes));
  const all = new Set(COMMON_MINUTES.filter((m) => m <= longest));
  for (const t of targets) {
    all.add(t.defaultDurationMinutes);
    all.add(t.maxDurationMinutes);
  }
  return [...all].sort((a, b) => a - b);
}

/**
 * The request form a bare `/access` or the "Request access" shortcut opens: target, duration (the
 * target's default preselected), reason. Its submission goes through the same use case as the command.
 */
export function requestForm(targets: readonly Target[], served?: ServedPlaces): ModalView {
  const shown = targets.slice(0, MAX_OPTIONS);
  const only = shown.length === 1 ? shown[0] : undefined;
  const defaultOption = option(
    only ? `${formatDuration(only.defaultDurationMinutes)} (default)` : "The target's default",
    DEFAULT_DURATION_VALUE,
  );
  return {
    type: 'modal',
    callback_id: VIEW_REQUEST_FORM,
    title: plain('Request access', MAX_TITLE),
    submit: plain('Request', MAX_TITLE),
    close: plain('Cancel', MAX_TITLE),
    blocks: [
      {
        type: 'input',
        block_id: BLOCK_REQUEST_TARGET,
        label: plain('Target', 2000),
        element: {
          type: 'static_select',
          action_id: INPUT_REQUEST_TARGET,
          placeholder: plain('Pick a fleet', 150),
          options: shown.map((t) => targetOption(t, served)),
          ...(only ? { initial_option: targetOption(only, served) } : {}),
        },
      },
      {
        type: 'input',
        block_id: BLOCK_REQUEST_DURATION,
        label: plain('Duration', 2000),
        hint: plain("Each target's default and limit are shown under its name.", 2000),
        element: {
          type: 'static_select',
          action_id: INPUT_REQUEST_DURATION,
          initial_option: defaultOption,
          options: [
            defaultOption,
            ...durationChoices(shown).map((m) => option(formatDuration(m), formatDuration(m))),
          ].slice(0, MAX_OPTIONS),
        },
      },
      {
        type: 'input',
        block_id: BLOCK_REQUEST_REASON,
        label: plain('Reason', 2000),
        hint: plain('Shown to the approvers on the approval card.', 2000),
        element: {
          type: 'plain_text_input',
          action_id: INPUT_REQUEST_REASON,
          multiline: true,
          max_length: MAX_REASON_CHARS,
          placeholder: plain('replace sensor on line 3', 150),
        },
      },
    ],
  };
}

/** What a submitted request form holds, read from `view.state.values`. */
export interface RequestFormValues {
  target: string;
  durationText?: string;
  reason: string;
}

type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value?: string } | null }>
>;

export function readRequestForm(values: StateValues): RequestFormValues {
  const target = values[BLOCK_REQUEST_TARGET]?.[INPUT_REQUEST_TARGET]?.selected_option?.value ?? '';
  const duration = values[BLOCK_REQUEST_DURATION]?.[INPUT_REQUEST_DURATION]?.selected_option?.value;
  const reason = values[BLOCK_REQUEST_REASON]?.[INPUT_REQUEST_REASON]?.value ?? '';
  return {
    target,
    ...(duration && duration !== DEFAULT_DURATION_VALUE ? { durationText: duration } : {}),
    reason,
  };
}

/** A refusal as Slack shows it on the form's fields (`response_action: errors`; plain text). */
export function requestFormErrors(r: RequestRefusal): Record<string, string> {
  switch (r.reason) {
    case 'unmapped-user':
      return {
        [BLOCK_REQUEST_TARGET]:
          "You are not mapped to an AWS identity. Ask whoever maintains Keyturn's configuration to add you under people: in keyturn.yml.",
      };
    case 'unknown-target':
      return { [BLOCK_REQUEST_TARGET]: `There is no target called ${r.given}. Pick one from the list.` };
    case 'bad-duration':
      return {
        [BLOCK_REQUEST_DURATION]: `${describeDurationError(r.error)}. Pick a duration from the list.`,
      };
    case 'over-max':
      return {
        [BLOCK_REQUEST_DURATION]: `${r.target.name} allows at most ${formatDuration(r.target.maxDurationMinutes)}; pick ${formatDuration(r.target.maxDurationMinutes)} or less.`,
      };
    case 'missing-reason':
      return { [BLOCK_REQUEST_REASON]: 'Say why you need access: it goes on the approval card.' };
    case 'reason-too-long':
      return {
        [BLOCK_REQUEST_REASON]: `Your reason is ${r.chars} characters; keep it under ${r.max} and link to a ticket for the details.`,
      };
    case 'run-as-conflict':
      return {
        [BLOCK_REQUEST_TARGET]: `Your open grant ${r.existing.id} on ${r.existing.target} runs sessions as ${r.runAs}, and ${r.wanted} is wanted here; one Run As user at a time. End or cancel ${r.existing.id} first.`,
      };
    case 'open-grant-exists':
      return {
        [BLOCK_REQUEST_TARGET]: `You already have request ${r.existing.id} for ${r.existing.target} (${r.existing.status}). One open request per target: use that one.`,
      };
    case 'direct-attach-elsewhere':
      return { [BLOCK_REQUEST_TARGET]: directAttachText(r, (s) => s) };
    case 'duplicate-request':
      return {
        [BLOCK_REQUEST_TARGET]: `Slack delivered this form twice; it was answered once${r.existing ? ` with request ${r.existing.id} (${r.existing.status})` : ''}. Nothing new was requested.`,
      };
  }
}

/** After a request from the form: the form turns into the same confirmation the command replies with. */
export function formDoneView(title: string, mrkdwn: string): View {
  return {
    type: 'modal',
    title: plain(title, MAX_TITLE),
    close: plain('Close', MAX_TITLE),
    blocks: [section(mrkdwn)],
  };
}
