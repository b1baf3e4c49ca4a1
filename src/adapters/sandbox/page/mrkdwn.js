// Slack's mrkdwn and text objects: escapes, <tokens>, emoji shortcodes, *bold* _italic_ ~strike~, code.
import { formatSlackDate, fullFormat } from './dates.js';
import { el, nameOf, names, render, ui } from './ui.js';

export function decode(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function renderToken(body, into) {
  const bar = body.indexOf('|');
  const target = bar < 0 ? body : body.slice(0, bar);
  const label = bar < 0 ? '' : decode(body.slice(bar + 1));
  if (/^@[UW][A-Z0-9]+$/.test(target)) {
    const id = target.slice(1);
    const span = el('span', id === ui.me ? 'mention me' : 'mention', `@${nameOf(id) || label}`);
    span.dataset.user = id;
    into.append(span);
    return;
  }
  if (/^#[CGD][A-Z0-9]+$/.test(target)) {
    const id = target.slice(1);
    into.append(el('span', 'channel-link', `#${names()[id] || label || id}`));
    return;
  }
  if (target.startsWith('!date^')) {
    const [, epoch, format = '{date_short} {time}', link] = target.split('^');
    const date = new Date(Number(epoch) * 1000);
    if (Number.isNaN(date.getTime())) {
      into.append(document.createTextNode(label));
      return;
    }
    const span = el(link ? 'a' : 'span', 'slack-date', formatSlackDate(date, format));
    span.title = fullFormat.format(date);
    span.dataset.epoch = epoch;
    if (link && /^https?:/.test(link)) {
      span.href = link;
      span.target = '_blank';
      span.rel = 'noopener noreferrer';
    }
    into.append(span);
    return;
  }
  if (target.startsWith('!subteam^')) {
    const id = target.slice('!subteam^'.length);
    into.append(el('span', 'mention', label || `@${nameOf(id)}`));
    return;
  }
  if (target === '!here' || target === '!channel' || target === '!everyone') {
    into.append(el('span', 'mention', `@${target.slice(1)}`));
    return;
  }
  // The sandbox's permalinks (chat.getPermalink) open the message's thread here, as Slack's do.
  const permalink = /^https:\/\/sandbox\.slack\.invalid\/archives\/([A-Z0-9]+)\/p(\d+)(\d{6})$/.exec(target);
  if (permalink) {
    const a = el('a', '', label || decode(target));
    a.href = '#';
    a.addEventListener('click', (event) => {
      event.preventDefault();
      ui.channel = permalink[1];
      ui.thread = { channel: permalink[1], ts: `${permalink[2]}.${permalink[3]}` };
      render();
    });
    into.append(a);
    return;
  }
  if (/^(https?:|mailto:)/.test(target)) {
    const a = el('a', '', label || decode(target));
    a.href = decode(target);
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    into.append(a);
    return;
  }
  into.append(document.createTextNode(decode(`<${body}>`)));
}

/**
 * Slack turns :shortcodes: into emoji. The ones Keyturn writes, and a few common ones, as plain
 * symbols every text font has (DejaVu Sans here): a machine without an emoji font shows them too,
 * instead of empty boxes. Anything else stays as typed, which is also what Slack shows for a name
 * it does not know.
 */
export const EMOJI = {
  white_check_mark: '\u2714',
  heavy_check_mark: '\u2714',
  ballot_box_with_check: '\u2611',
  x: '\u2718',
  heavy_multiplication_x: '\u2716',
  warning: '\u26a0',
  no_entry: '\u2298',
  no_entry_sign: '\u2298',
  hourglass: '\u25f7',
  hourglass_flowing_sand: '\u25f7',
  stopwatch: '\u25f7',
  mailbox_with_no_mail: '\u2709',
  grey_question: '?',
  black_square_for_stop: '\u25a0',
  lock: '\u25a0',
  unlock: '\u25a1',
  key: '\u2692',
  inbox_tray: '\u2193',
  arrow_forward: '\u25b6',
  checkered_flag: '\u2691',
  wave: '\u21a9',
  tada: '\u2731',
  eyes: '\u25c9',
};

export function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

export const WORD = /[A-Za-z0-9]/;

/** *bold*, _italic_, ~strike~ only count at word edges, as in Slack: snake_case stays as typed. */
export function atWordEdges(text, start, end) {
  const before = text[start - 1];
  const after = text[end];
  const inner = text.slice(start + 1, end - 1);
  return (!before || !WORD.test(before)) && (!after || !WORD.test(after)) && inner.trim() === inner;
}

export function renderInline(text, into) {
  const re = /`([^`\n]+)`|<([^<>\n]+)>|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;
  let last = 0;
  let m = re.exec(text);
  while (m) {
    const start = m.index;
    const end = re.lastIndex;
    const styled = m[3] !== undefined || m[4] !== undefined || m[5] !== undefined;
    if (styled && !atWordEdges(text, start, end)) {
      re.lastIndex = start + 1;
      m = re.exec(text);
      continue;
    }
    if (start > last) into.append(document.createTextNode(emojify(decode(text.slice(last, start)))));
    if (m[1] !== undefined) into.append(el('code', '', decode(m[1])));
    else if (m[2] !== undefined) renderToken(m[2], into);
    else {
      const tag = m[3] !== undefined ? 'b' : m[4] !== undefined ? 'i' : 's';
      const inner = el(tag);
      renderInline(m[3] ?? m[4] ?? m[5], inner);
      into.append(inner);
    }
    last = end;
    m = re.exec(text);
  }
  if (last < text.length) into.append(document.createTextNode(emojify(decode(text.slice(last)))));
}

export function renderLines(text, into) {
  // Lines starting with a raw ">" are quotes; a person's ">" arrives escaped (&gt;) and stays text.
  const lines = text.split('\n');
  let quote = null;
  lines.forEach((line, i) => {
    const newline = i < lines.length - 1 ? '\n' : '';
    if (line.startsWith('>')) {
      if (!quote) {
        quote = el('blockquote');
        into.append(quote);
      }
      renderInline(line.replace(/^> ?/, '') + newline, quote);
      return;
    }
    quote = null;
    renderInline(line + newline, into);
  });
}

export function mrkdwn(text) {
  const box = el('div', 'mrkdwn');
  const parts = text.split('```');
  // Odd parts sit between fences; an unclosed fence is just text. A code block is a block of its own,
  // so the line break on either side of it would only add an empty line.
  const isCode = (i) => i % 2 === 1 && i < parts.length - 1;
  parts.forEach((part, i) => {
    if (isCode(i)) {
      box.append(el('pre', '', decode(part.replace(/^\n/, ''))));
      return;
    }
    let text = i % 2 === 1 ? `\`\`\`${part}` : part;
    if (isCode(i - 1)) text = text.replace(/^\n/, '');
    if (isCode(i + 1)) text = text.replace(/\n$/, '');
    if (text) renderLines(text, box);
  });
  return box;
}

export function textObject(obj) {
  if (!obj) return el('span');
  if (obj.type === 'mrkdwn') return mrkdwn(obj.text || '');
  return el('div', 'plain', obj.emoji === false ? obj.text || '' : emojify(obj.text || ''));
}
