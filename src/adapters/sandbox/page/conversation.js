// The open channel (or DM) and the thread pane: messages with their author, time and replies.
import { renderContent } from './blocks.js';
import { channelsOf, markSeen, threadOf, topLevel } from './channels.js';
import { fullFormat, timeFormat } from './dates.js';
import { renderHome } from './home.js';
import { $, el, HOME, nameOf, render, SLACKBOT, ui } from './ui.js';

export function avatarColor(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h}, 45%, 42%)`;
}

export function timeOf(message) {
  return message.postedAt ? new Date(message.postedAt) : null;
}

export function renderMessage(message, opts) {
  const row = el('article', 'message');
  row.dataset.ts = message.ts;
  row.dataset.channel = message.channel;
  if (message.visibleTo) row.classList.add('ephemeral');
  const author = message.author ? nameOf(message.author) : 'keyturn';
  const avatar = el('div', 'avatar', author === 'keyturn' ? 'K' : author.slice(0, 1).toUpperCase());
  avatar.style.background = author === 'keyturn' ? 'var(--aubergine)' : avatarColor(author);
  if (message.author === SLACKBOT) avatar.style.background = '#2eb67d';
  row.append(avatar);

  const body = el('div', 'message-body');
  const meta = el('div', 'message-meta');
  meta.append(el('span', 'author', author === 'keyturn' ? 'Keyturn' : author));
  if (!message.author || message.author === SLACKBOT) meta.append(el('span', 'app-tag', 'APP'));
  const at = timeOf(message);
  if (at) {
    const t = el('time', 'timestamp', timeFormat.format(at));
    t.dateTime = message.postedAt;
    t.title = fullFormat.format(at);
    meta.append(t);
  }
  if (message.visibleTo) meta.append(el('span', 'only-you', 'Only visible to you'));
  body.append(meta);
  body.append(renderContent(message));

  if (opts?.replies?.length) {
    const link = el(
      'button',
      'replies-link',
      `${opts.replies.length} ${opts.replies.length === 1 ? 'reply' : 'replies'}`,
    );
    link.type = 'button';
    link.addEventListener('click', () => {
      ui.thread = { channel: message.channel, ts: message.ts };
      render();
    });
    body.append(link);
  }
  row.append(body);
  return row;
}

export function keepScroll(container, fill) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const previous = container.scrollTop;
  const changedChannel = container.dataset.channel !== ui.channel;
  fill();
  container.dataset.channel = ui.channel;
  container.scrollTop = atBottom || changedChannel ? container.scrollHeight : previous;
}

export function renderChannel(state) {
  if (ui.channel === HOME) return renderHome(state);
  $('composer').hidden = false;
  const all = channelsOf(state);
  const channel = all.find((c) => c.id === ui.channel);
  const isDm = ui.channel === state.dm;
  $('channel-title').textContent = isDm ? 'keyturn' : `# ${channel ? channel.name : ui.channel}`;
  $('channel-purpose').textContent = isDm
    ? 'Direct messages from Keyturn: ready, warnings, expiry'
    : channel
      ? channel.purpose
      : '';
  $('composer-input').placeholder = isDm
    ? 'Message keyturn — try /access help'
    : `Message #${channel ? channel.name : ''} — try /access help`;

  const list = $('messages');
  const tops = topLevel(state.messages, ui.channel);
  markSeen(ui.channel, tops.length);
  keepScroll(list, () => {
    list.textContent = '';
    if (tops.length === 0) {
      const empty = el('div', 'empty');
      empty.textContent =
        ui.channel === state.channels[0].id
          ? 'Nothing here yet. Type /access prod-raspi 1h <reason> below to ask for access, or /access help.'
          : 'Nothing here yet.';
      list.append(empty);
    }
    for (const m of tops) {
      list.append(renderMessage(m, { replies: threadOf(state.messages, m.channel, m.ts) }));
    }
  });
}

export function renderThread(state) {
  const pane = $('thread');
  if (!ui.thread) {
    pane.hidden = true;
    return;
  }
  const parent = state.messages.find((m) => m.channel === ui.thread.channel && m.ts === ui.thread.ts);
  if (!parent) {
    ui.thread = null;
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  $('thread-channel').textContent = `# ${nameOf(parent.channel)}`;
  const list = $('thread-messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.textContent = '';
  list.append(renderMessage(parent));
  const replies = threadOf(state.messages, parent.channel, parent.ts);
  const divider = el('div', 'muted small', `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`);
  divider.style.padding = '4px 20px';
  list.append(divider);
  for (const r of replies) list.append(renderMessage(r));
  if (atBottom) list.scrollTop = list.scrollHeight;
}
