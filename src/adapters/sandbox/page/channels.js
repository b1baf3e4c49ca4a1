// Which channels the page lists, which messages are top-level or thread replies, and what was read.
import { SEEN_KEY, ui } from './ui.js';

export function threadOf(messages, channel, ts) {
  return messages.filter((m) => m.channel === channel && m.threadTs === ts && m.ts !== ts);
}

export function topLevel(messages, channel) {
  return messages.filter((m) => m.channel === channel && (!m.threadTs || m.threadTs === m.ts));
}

export function channelsOf(state) {
  const list = state.channels.slice();
  // Channels the bot posted in that the config does not name still show up, as in Slack.
  for (const m of state.messages) {
    if (m.channel.startsWith('D') || list.some((c) => c.id === m.channel)) continue;
    list.push({ id: m.channel, name: state.names[m.channel] || m.channel, purpose: '' });
  }
  return list;
}

export function seenFor(channel) {
  ui.seen[ui.me] = ui.seen[ui.me] || {};
  return ui.seen[ui.me][channel] || 0;
}

export function markSeen(channel, count) {
  ui.seen[ui.me] = ui.seen[ui.me] || {};
  if (ui.seen[ui.me][channel] === count) return;
  ui.seen[ui.me][channel] = count;
  localStorage.setItem(SEEN_KEY, JSON.stringify(ui.seen));
}
