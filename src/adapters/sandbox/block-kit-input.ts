// What a click or a submit carries, read off the blocks the page shows: Slack sends back the button's
// value and block, and builds a modal's view.state.values from its input blocks.
import { isRecord, type Json } from './json-http';

/** The button with this action_id (and block_id, when given) in a message's actions blocks or section accessories. */
export function findButton(
  blocks: readonly unknown[],
  actionId: string,
  blockId?: unknown,
): { value?: string; blockId: string; label: string } | undefined {
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const id = typeof block.block_id === 'string' ? block.block_id : '';
    if (typeof blockId === 'string' && blockId !== '' && id !== '' && id !== blockId) continue;
    const elements = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory];
    for (const element of elements) {
      if (!isRecord(element) || element.type !== 'button' || element.action_id !== actionId) continue;
      const text =
        isRecord(element.text) && typeof element.text.text === 'string' ? element.text.text : actionId;
      return {
        ...(typeof element.value === 'string' ? { value: element.value } : {}),
        // Slack fills in a block_id when the app gave none; the listeners do not read it.
        blockId: id || 'sandbox-block',
        label: text,
      };
    }
  }
  return undefined;
}

/**
 * `view.state.values` as Slack builds it on submit: block_id → action_id → { type, value } for every
 * input block, from what the person typed (`typed[block_id][action_id]`). Untouched inputs are null.
 */
export function viewStateValues(view: Json, typed: Json): Json {
  const values: Json = {};
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  for (const block of blocks) {
    if (!isRecord(block) || block.type !== 'input' || !isRecord(block.element)) continue;
    const blockId = typeof block.block_id === 'string' ? block.block_id : '';
    const actionId = typeof block.element.action_id === 'string' ? block.element.action_id : '';
    const given = isRecord(typed[blockId]) ? (typed[blockId] as Json)[actionId] : undefined;
    if (block.element.type === 'static_select') {
      // Slack sends the picked option whole; only an option the select offers can be picked.
      const options = Array.isArray(block.element.options) ? block.element.options : [];
      const picked = options.find((o) => isRecord(o) && o.value === given);
      values[blockId] = { [actionId]: { type: 'static_select', selected_option: picked ?? null } };
      continue;
    }
    values[blockId] = {
      [actionId]: {
        type: block.element.type,
        value: typeof given === 'string' && given !== '' ? given : null,
      },
    };
  }
  return values;
}
