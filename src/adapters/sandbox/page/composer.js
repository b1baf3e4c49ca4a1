// The message box: slash commands go to the bot as Slack sends them, anything else is a message between
// people; suggestions list the commands, targets and snippets the config offers.
import { act, post } from './api.js';
import { $, el, ui } from './ui.js';

export function suggestionsFor(text) {
  const state = ui.state;
  if (!state || !text.startsWith('/')) return [];
  const all = [];
  if (state.commands.includes('/access')) {
    all.push({ text: '/access help', hint: 'usage and the targets you can ask for' });
    for (const t of state.targets)
      all.push({
        text: `/access ${t.name} 1h `,
        hint: `ask for ${t.name}${t.description ? ` — ${t.description}` : ''}${t.where ? ` (${t.where})` : ''}`,
      });
    all.push({ text: '/access list', hint: 'your open requests and grants' });
    all.push({ text: '/access done', hint: 'give access back now' });
  }
  if (state.commands.includes('/run')) {
    for (const s of state.snippets)
      for (const target of s.targets)
        all.push({ text: `/run ${target} ${s.name}`, hint: s.description || 'Run Command snippet' });
  }
  const typed = text.toLowerCase();
  return all
    .filter((s) => s.text.toLowerCase().startsWith(typed) && s.text.trim() !== text.trim())
    .slice(0, 12);
}

export function showSuggestions() {
  const list = $('suggestions');
  const items = suggestionsFor($('composer-input').value);
  list.textContent = '';
  ui.suggestion = -1;
  if (items.length === 0) {
    list.hidden = true;
    return;
  }
  for (const item of items) {
    const li = el('li');
    const b = el('button');
    b.type = 'button';
    b.append(el('span', 'mono', item.text.trim()), el('span', 'hint', item.hint));
    b.addEventListener('mousedown', (event) => {
      event.preventDefault();
      $('composer-input').value = item.text;
      list.hidden = true;
      $('composer-input').focus();
    });
    li.append(b);
    list.append(li);
  }
  list.hidden = false;
}

export async function send(input, threadTs) {
  const text = input.value.trim();
  if (!text || !ui.state) return;
  input.value = '';
  $('suggestions').hidden = true;
  const channel = threadTs ? ui.thread.channel : ui.channel;
  await act(null, () =>
    text.startsWith('/') && !threadTs
      ? post('/sandbox/api/command', { user: ui.me, channel, text })
      : post('/sandbox/api/message', { user: ui.me, channel, text, ...(threadTs ? { threadTs } : {}) }),
  );
}

export function composer(form, input, threadTs) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(input, threadTs());
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      send(input, threadTs());
    }
  });
}

/** The channel and thread message boxes. */
export function wireComposer() {
  composer($('composer'), $('composer-input'), () => undefined);
  composer($('thread-composer'), $('thread-input'), () => (ui.thread ? ui.thread.ts : undefined));
  $('composer-input').addEventListener('input', showSuggestions);
  $('composer-input').addEventListener('blur', () => {
    $('suggestions').hidden = true;
  });
}
