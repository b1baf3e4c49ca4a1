// The sidebar (channels, DMs, the Home tab, people) and the "You are" picker.
import { act, post } from './api.js';
import { channelsOf, seenFor, topLevel } from './channels.js';
import { $, el, HOME, render, ui } from './ui.js';

export function navButton(id, label, extra) {
  const li = el('li');
  const b = el('button');
  b.type = 'button';
  b.dataset.channel = id;
  b.append(el('span', '', label));
  if (extra) b.append(extra);
  const count = topLevel(ui.state.messages, id).length;
  const unread = id === ui.channel ? 0 : count - seenFor(id);
  if (id === ui.channel) b.classList.add('active');
  if (unread > 0) {
    b.classList.add('unread');
    b.append(el('span', 'badge', String(unread)));
  }
  b.addEventListener('click', () => {
    ui.channel = id;
    ui.thread = null;
    render();
    if (id === HOME) act(null, () => post('/sandbox/api/home/open', { user: ui.me }));
    else $('composer-input').focus();
  });
  li.append(b);
  return li;
}

export function renderWho(state) {
  const select = $('who');
  const key = state.people.map((p) => p.id).join(',');
  if (select.dataset.key !== key) {
    select.textContent = '';
    for (const p of state.people) {
      const role = p.approverOf.length
        ? `approver of ${p.approverOf.join(', ')}`
        : p.principal || 'not mapped';
      const option = el('option', '', `${p.name} — ${role}`);
      option.value = p.id;
      select.append(option);
    }
    select.dataset.key = key;
  }
  select.value = ui.me;
}

export function renderSidebar(state) {
  const channels = $('channel-list');
  channels.textContent = '';
  for (const c of channelsOf(state)) channels.append(navButton(c.id, `# ${c.name}`));
  const dms = $('dm-list');
  dms.textContent = '';
  dms.append(navButton(state.dm, 'keyturn', el('span', 'app-tag', 'APP')));
  dms.append(navButton(HOME, 'keyturn · Home', el('span', 'app-tag', 'APP')));

  const people = $('people-list');
  people.textContent = '';
  for (const p of state.people) {
    const li = el('li', p.id === ui.me ? 'me' : '');
    li.append(document.createTextNode(p.name + (p.id === ui.me ? ' (you)' : '')));
    const roles = [p.principal || 'not mapped to AWS'];
    if (p.approverOf.length) roles.push(`approves ${p.approverOf.join(', ')}`);
    li.append(el('span', 'role', roles.join(' · ')));
    people.append(li);
  }
}
