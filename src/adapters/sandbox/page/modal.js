// Modals the bot opened (views.open): shown for the person whose click issued the trigger, submitted
// with Slack's view state, kept open with the errors the bot answers.
import { act, post } from './api.js';
import { renderBlock } from './blocks.js';
import { $, toast, ui } from './ui.js';

export function renderModal(state) {
  const backdrop = $('modal');
  if (!state.modal) {
    backdrop.hidden = true;
    ui.modalId = null;
    return;
  }
  if (state.modal.id === ui.modalId) return;
  ui.modalId = state.modal.id;
  const view = state.modal.view;
  $('modal-title').textContent = view.title ? view.title.text : '';
  $('modal-submit').textContent = view.submit ? view.submit.text : 'Submit';
  $('modal-submit').hidden = !view.submit;
  $('modal-close').textContent = view.close ? view.close.text : 'Cancel';
  fillModal(view, {});
  backdrop.hidden = false;
  const first = backdrop.querySelector('textarea, input');
  if (first) first.focus();
}

export function fillModal(view, errors) {
  const body = $('modal-body');
  const typed = {};
  for (const input of body.querySelectorAll('[data-block-id]')) {
    if ('value' in input) typed[`${input.dataset.blockId}/${input.dataset.actionId}`] = input.value;
  }
  body.textContent = '';
  for (const block of view.blocks || []) body.append(renderBlock(block, null, errors));
  for (const input of body.querySelectorAll('textarea, input, select')) {
    const key = `${input.dataset.blockId}/${input.dataset.actionId}`;
    if (key in typed) input.value = typed[key];
  }
}

export function closeModal() {
  if (!ui.state?.modal) return;
  const viewId = ui.state.modal.id;
  $('modal').hidden = true;
  act(null, () => post('/sandbox/api/view/close', { user: ui.me, viewId }));
}

/** Close, ×, Escape and submit. */
export function wireModal() {
  $('modal-close').addEventListener('click', closeModal);
  $('modal-x').addEventListener('click', closeModal);
  $('modal-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!ui.state?.modal) return;
    const modal = ui.state.modal;
    const values = {};
    for (const input of $('modal-body').querySelectorAll('[data-block-id][data-action-id]')) {
      if (!('value' in input)) continue;
      values[input.dataset.blockId] = values[input.dataset.blockId] || {};
      values[input.dataset.blockId][input.dataset.actionId] = input.value;
    }
    act($('modal-submit'), async () => {
      const answer = await post('/sandbox/api/view/submit', { user: ui.me, viewId: modal.id, values });
      if (answer.ok === false) fillModal(modal.view, answer.errors || {});
      if (answer.ok === false && answer.status) toast(`Keyturn answered HTTP ${answer.status}`);
    });
  });

  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !$('modal').hidden) closeModal();
  });
}
