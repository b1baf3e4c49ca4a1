// Keyturn sandbox page: a small Slack client for the sandbox's own Slack. Vanilla JS, no build step, no
// network beyond this server. It shows only what the bot sent (messages, updates, ephemerals, views) and
// sends every click and command through the sandbox API, which signs it as Slack would for the bot.
(() => {
  const $ = (id) => document.getElementById(id);
  const SLACKBOT = 'USLACKBOT';
  const POLL_MS = 1000;
  const STORE_KEY = 'keyturn.sandbox.me';
  const SEEN_KEY = 'keyturn.sandbox.seen';

  function readSeen() {
    try {
      const seen = JSON.parse(localStorage.getItem(SEEN_KEY) || '{}');
      return seen && typeof seen === 'object' ? seen : {};
    } catch {
      return {};
    }
  }
  /** The sidebar entry of Keyturn's Home tab (not a channel). */
  const HOME = 'HOME';

  const ui = {
    me: localStorage.getItem(STORE_KEY) || '',
    channel: '',
    thread: null,
    state: null,
    lastJson: '',
    modalId: null,
    /** me → channel → top-level messages already seen there; kept across reloads, as Slack keeps read state. */
    seen: readSeen(),
    /** nodeId → { text, error } from the last Start session click. */
    terminal: {},
    suggestion: -1,
  };

  // ---- talking to the sandbox -------------------------------------------------------------------

  // The server fills this in as it serves the page and refuses API requests without it, so no other
  // page (another origin, another tab's stale copy after a restart) can act in the sandbox.
  const PAGE_TOKEN = document.querySelector('meta[name="keyturn-page-token"]')?.getAttribute('content') || '';
  const TOKEN_HEADER = 'x-keyturn-page-token';

  async function post(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOKEN_HEADER]: PAGE_TOKEN },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
    if (!res.ok) throw new Error(answer.error || `HTTP ${res.status}`);
    return answer;
  }

  async function refresh() {
    // With nobody picked yet the sandbox answers as the first person in the config.
    const asked = ui.me;
    const res = await fetch(`/sandbox/api/state?user=${encodeURIComponent(asked)}`, {
      headers: { [TOKEN_HEADER]: PAGE_TOKEN },
    });
    if (res.status === 400 && asked) {
      ui.me = '';
      localStorage.removeItem(STORE_KEY);
      return refresh();
    }
    if (res.status === 403) {
      // A restarted sandbox has a new token: this copy of the page can no longer act.
      if (!ui.reloadSaid) toast('The sandbox was restarted or refused this page: reload it.');
      ui.reloadSaid = true;
      return;
    }
    const text = await res.text();
    // Someone else was picked while this was on its way: their state is what the page must show.
    if (asked !== ui.me && asked !== '') return;
    if (text === ui.lastJson) return;
    ui.lastJson = text;
    ui.state = JSON.parse(text);
    render();
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      await refresh();
    } catch (error) {
      document.body.dataset.offline = 'true';
      console.warn('sandbox poll failed', error);
    } finally {
      polling = false;
    }
  }

  function toast(text) {
    const el = document.createElement('div');
    el.className = 'toast';
    el.textContent = text;
    $('toasts').append(el);
    setTimeout(() => el.remove(), 6000);
  }

  /** Runs an action with `button` disabled, then shows its effect at once. */
  async function act(button, run) {
    if (button) button.disabled = true;
    try {
      return await run();
    } catch (error) {
      toast(error.message);
      return undefined;
    } finally {
      if (button) button.disabled = false;
      ui.lastJson = '';
      await poll();
    }
  }

  // ---- names, dates, mrkdwn ---------------------------------------------------------------------

  const names = () => (ui.state ? ui.state.names : {});
  const nameOf = (id) => names()[id] || id;
  const sandboxNow = () => (ui.state ? new Date(ui.state.now) : new Date());

  function decode(text) {
    return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function avatarColor(name) {
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
    return `hsl(${h}, 45%, 42%)`;
  }

  const MONTHS = [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ];
  const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

  /** Year, month, day, weekday in the browser's time zone: Slack shows dates in the reader's zone. */
  function localParts(date) {
    return {
      y: date.getFullYear(),
      m: date.getMonth(),
      d: date.getDate(),
      w: date.getDay(),
    };
  }

  function ordinal(n) {
    const rem = n % 100;
    if (rem >= 11 && rem <= 13) return `${n}th`;
    return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const timeSecsFormat = new Intl.DateTimeFormat(undefined, {
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
  });
  const fullFormat = new Intl.DateTimeFormat(undefined, {
    dateStyle: 'full',
    timeStyle: 'long',
  });
  const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

  function dayDiff(date, now) {
    const a = localParts(date);
    const b = localParts(now);
    return Math.round((Date.UTC(a.y, a.m, a.d) - Date.UTC(b.y, b.m, b.d)) / 86400000);
  }

  function prettyDay(date, fallback) {
    const diff = dayDiff(date, sandboxNow());
    if (diff === 0) return 'today';
    if (diff === 1) return 'tomorrow';
    if (diff === -1) return 'yesterday';
    return fallback;
  }

  function ago(date) {
    const seconds = Math.round((date.getTime() - sandboxNow().getTime()) / 1000);
    const abs = Math.abs(seconds);
    if (abs < 60) return relative.format(seconds, 'second');
    if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
    return relative.format(Math.round(seconds / 86400), 'day');
  }

  /** Slack's date tokens (https://docs.slack.dev/messaging/formatting-message-text#date-formatting). */
  function formatSlackDate(date, format) {
    const p = localParts(date);
    const pad = (n) => String(n).padStart(2, '0');
    const base = {
      date_num: `${p.y}-${pad(p.m + 1)}-${pad(p.d)}`,
      date: `${MONTHS[p.m]} ${ordinal(p.d)}, ${p.y}`,
      date_short: `${MONTHS[p.m].slice(0, 3)} ${p.d}, ${p.y}`,
      date_long: `${WEEKDAYS[p.w]}, ${MONTHS[p.m]} ${ordinal(p.d)}, ${p.y}`,
      time: timeFormat.format(date),
      time_secs: timeSecsFormat.format(date),
      ago: ago(date),
    };
    base.date_pretty = prettyDay(date, base.date);
    base.date_short_pretty = prettyDay(date, base.date_short);
    base.date_long_pretty = prettyDay(date, base.date_long);
    return format.replace(/\{(\w+)\}/g, (whole, key) => (key in base ? base[key] : whole));
  }

  function renderToken(body, into) {
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
    const permalink = /^https:\/\/sandbox\.slack\.invalid\/archives\/([A-Z0-9]+)\/p(\d+)(\d{6})$/.exec(
      target,
    );
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
  const EMOJI = {
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

  function emojify(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  const WORD = /[A-Za-z0-9]/;

  /** *bold*, _italic_, ~strike~ only count at word edges, as in Slack: snake_case stays as typed. */
  function atWordEdges(text, start, end) {
    const before = text[start - 1];
    const after = text[end];
    const inner = text.slice(start + 1, end - 1);
    return (!before || !WORD.test(before)) && (!after || !WORD.test(after)) && inner.trim() === inner;
  }

  function renderInline(text, into) {
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

  function renderLines(text, into) {
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

  function mrkdwn(text) {
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

  function textObject(obj) {
    if (!obj) return el('span');
    if (obj.type === 'mrkdwn') return mrkdwn(obj.text || '');
    return el('div', 'plain', obj.emoji === false ? obj.text || '' : emojify(obj.text || ''));
  }

  // ---- Block Kit ----------------------------------------------------------------------------------

  function renderButton(element, message, block) {
    const b = el('button', 'block-button', element.text ? element.text.text : element.action_id);
    b.type = 'button';
    if (element.style === 'primary' || element.style === 'danger') b.classList.add(element.style);
    b.dataset.actionId = element.action_id;
    if (message?.home) {
      b.addEventListener('click', () => {
        // Slack asks before a button with a confirm dialog acts (Revoke).
        if (element.confirm && !window.confirm(`${element.confirm.title.text}\n${element.confirm.text.text}`))
          return;
        act(b, () =>
          post('/sandbox/api/home/action', {
            user: ui.me,
            actionId: element.action_id,
            value: element.value || '',
          }),
        );
      });
    } else if (message) {
      b.addEventListener('click', () =>
        act(b, () =>
          post('/sandbox/api/action', {
            user: ui.me,
            channel: message.channel,
            ts: message.ts,
            actionId: element.action_id,
            blockId: block.block_id || '',
          }).then((answer) => {
            if (answer && answer.ok === false && answer.status)
              toast(`Keyturn answered HTTP ${answer.status}`);
          }),
        ),
      );
    } else b.disabled = true;
    return b;
  }

  function renderRichText(element, into) {
    for (const part of element.elements || []) {
      if (part.type === 'rich_text_preformatted') {
        const pre = el('pre', 'rt-pre');
        renderRichInline(part.elements || [], pre);
        into.append(pre);
      } else if (part.type === 'rich_text_quote') {
        const q = el('blockquote', 'mrkdwn');
        renderRichInline(part.elements || [], q);
        into.append(q);
      } else if (part.type === 'rich_text_list') {
        const list = el(part.style === 'ordered' ? 'ol' : 'ul');
        for (const item of part.elements || []) {
          const li = el('li', 'mrkdwn');
          renderRichInline(item.elements || [], li);
          list.append(li);
        }
        into.append(list);
      } else {
        const div = el('div', 'mrkdwn');
        renderRichInline(part.elements || [], div);
        into.append(div);
      }
    }
  }

  function renderRichInline(elements, into) {
    for (const e of elements) {
      let node;
      if (e.type === 'text') {
        node = el(e.style?.code ? 'code' : 'span', '', e.text || '');
        if (e.style?.bold) node.style.fontWeight = '700';
        if (e.style?.italic) node.style.fontStyle = 'italic';
        if (e.style?.strike) node.style.textDecoration = 'line-through';
      } else if (e.type === 'user')
        node = el('span', e.user_id === ui.me ? 'mention me' : 'mention', `@${nameOf(e.user_id)}`);
      else if (e.type === 'channel') node = el('span', 'channel-link', `#${nameOf(e.channel_id)}`);
      else if (e.type === 'usergroup') node = el('span', 'mention', `@${nameOf(e.usergroup_id)}`);
      else if (e.type === 'link') {
        node = el('a', '', e.text || e.url);
        if (/^https?:/.test(e.url || '')) node.href = e.url;
        node.target = '_blank';
        node.rel = 'noopener noreferrer';
      } else if (e.type === 'date') {
        const date = new Date(e.timestamp * 1000);
        node = el('span', 'slack-date', formatSlackDate(date, e.format || '{date_short} {time}'));
        node.title = fullFormat.format(date);
      } else if (e.type === 'emoji')
        node = el(
          'span',
          '',
          e.unicode ? String.fromCodePoint(Number.parseInt(e.unicode, 16)) : `:${e.name}:`,
        );
      else node = el('span', 'unsupported', `[${e.type}]`);
      into.append(node);
    }
  }

  function renderInput(block, errors) {
    const wrap = el('div', 'block input-block');
    wrap.dataset.blockId = block.block_id || '';
    const element = block.element || {};
    const id = `input-${block.block_id}-${element.action_id}`;
    const label = el('label');
    label.htmlFor = id;
    label.append(document.createTextNode(block.label ? block.label.text : ''));
    if (block.optional) label.append(el('span', 'optional', ' (optional)'));
    wrap.append(label);
    if (element.type === 'plain_text_input') {
      const input = el(element.multiline ? 'textarea' : 'input');
      input.id = id;
      if (!element.multiline) input.type = 'text';
      if (element.max_length) input.maxLength = element.max_length;
      if (element.placeholder) input.placeholder = element.placeholder.text;
      if (element.initial_value) input.value = element.initial_value;
      input.dataset.blockId = block.block_id || '';
      input.dataset.actionId = element.action_id || '';
      wrap.append(input);
    } else if (element.type === 'static_select') {
      const select = el('select');
      select.id = id;
      if (!element.initial_option) {
        const none = el('option', '', element.placeholder ? element.placeholder.text : 'Pick one');
        none.value = '';
        select.append(none);
      }
      for (const o of element.options || []) {
        // Slack shows an option's description under its text; a native select has one line for both.
        const text = o.description ? `${o.text.text} — ${o.description.text}` : o.text.text;
        const option = el('option', '', text);
        option.value = o.value;
        if (element.initial_option && element.initial_option.value === o.value) option.selected = true;
        select.append(option);
      }
      select.dataset.blockId = block.block_id || '';
      select.dataset.actionId = element.action_id || '';
      wrap.append(select);
    } else wrap.append(el('div', 'unsupported', `Unsupported input: ${element.type}`));
    if (block.hint) wrap.append(el('div', 'muted small', block.hint.text));
    const error = errors?.[block.block_id];
    if (error) wrap.append(el('div', 'input-error', error));
    return wrap;
  }

  function renderBlock(block, message, errors) {
    switch (block.type) {
      case 'header':
        return el('div', 'block block-header', block.text ? block.text.text : '');
      case 'section': {
        const wrap = el('div', 'block block-section');
        const main = el('div', 'section-main');
        if (block.text) main.append(textObject(block.text));
        if (block.fields?.length) {
          const grid = el('div', 'block-fields');
          for (const f of block.fields) grid.append(textObject(f));
          main.append(grid);
        }
        wrap.append(main);
        if (block.accessory && block.accessory.type === 'button')
          wrap.append(renderButton(block.accessory, message, block));
        else if (block.accessory) wrap.append(el('span', 'unsupported', `[${block.accessory.type}]`));
        return wrap;
      }
      case 'context': {
        const wrap = el('div', 'block block-context');
        for (const e of block.elements || []) {
          if (e.type === 'image') wrap.append(el('span', '', `[${e.alt_text || 'image'}]`));
          else wrap.append(textObject(e));
        }
        return wrap;
      }
      case 'divider':
        return el('hr', 'block-divider');
      case 'actions': {
        const wrap = el('div', 'block block-actions');
        for (const e of block.elements || []) {
          if (e.type === 'button') wrap.append(renderButton(e, message, block));
          else wrap.append(el('span', 'unsupported', `[${e.type}]`));
        }
        return wrap;
      }
      case 'rich_text': {
        const wrap = el('div', 'block');
        renderRichText(block, wrap);
        return wrap;
      }
      case 'image':
        // Images would need the network; Slack's alt text says what it is.
        return el('div', 'block unsupported', `[image: ${block.alt_text || ''}]`);
      case 'input':
        return renderInput(block, errors);
      default:
        return el('div', 'block unsupported', `Unsupported block: ${block.type}`);
    }
  }

  function renderContent(message) {
    const box = el('div', 'message-content');
    if (message.blocks?.length) {
      for (const block of message.blocks) box.append(renderBlock(block, message));
    } else box.append(mrkdwn(message.text || ''));
    return box;
  }

  // ---- messages -----------------------------------------------------------------------------------

  function timeOf(message) {
    return message.postedAt ? new Date(message.postedAt) : null;
  }

  function renderMessage(message, opts) {
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

  function threadOf(messages, channel, ts) {
    return messages.filter((m) => m.channel === channel && m.threadTs === ts && m.ts !== ts);
  }

  function topLevel(messages, channel) {
    return messages.filter((m) => m.channel === channel && (!m.threadTs || m.threadTs === m.ts));
  }

  function keepScroll(container, fill) {
    const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
    const previous = container.scrollTop;
    const changedChannel = container.dataset.channel !== ui.channel;
    fill();
    container.dataset.channel = ui.channel;
    container.scrollTop = atBottom || changedChannel ? container.scrollHeight : previous;
  }

  // ---- the page -----------------------------------------------------------------------------------

  function channelsOf(state) {
    const list = state.channels.slice();
    // Channels the bot posted in that the config does not name still show up, as in Slack.
    for (const m of state.messages) {
      if (m.channel.startsWith('D') || list.some((c) => c.id === m.channel)) continue;
      list.push({ id: m.channel, name: state.names[m.channel] || m.channel, purpose: '' });
    }
    return list;
  }

  function seenFor(channel) {
    ui.seen[ui.me] = ui.seen[ui.me] || {};
    return ui.seen[ui.me][channel] || 0;
  }

  function markSeen(channel, count) {
    ui.seen[ui.me] = ui.seen[ui.me] || {};
    if (ui.seen[ui.me][channel] === count) return;
    ui.seen[ui.me][channel] = count;
    localStorage.setItem(SEEN_KEY, JSON.stringify(ui.seen));
  }

  function navButton(id, label, extra) {
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

  function renderWho(state) {
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

  function renderClock(state) {
    const now = new Date(state.now);
    const clock = $('clock-now');
    clock.textContent = new Intl.DateTimeFormat(undefined, {
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
    }).format(now);
    clock.dateTime = state.now;
    clock.title = fullFormat.format(now);
    const minutes = Math.round(state.offsetMs / 60000);
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    const ahead = minutes === 0 ? 'real time' : `+${h ? `${h} h ` : ''}${m ? `${m} min` : ''}`.trim();
    $('clock-offset').textContent = `(${ahead}, ${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
  }

  function renderSidebar(state) {
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

  /** Keyturn's Home tab, as Slack shows an app's Home: the published view, and no composer. */
  function renderHome(state) {
    $('channel-title').textContent = 'keyturn';
    $('channel-purpose').textContent = 'Home: your access, and what waits for you';
    $('composer').hidden = true;
    const list = $('messages');
    list.textContent = '';
    const home = el('div', 'home-tab');
    if (!state.home) home.append(el('div', 'empty', 'Opening Home…'));
    // Someone else picked while Home was open: Slack sends app_home_opened for them too.
    if (!state.home && ui.homeOpenedFor !== ui.me) {
      ui.homeOpenedFor = ui.me;
      act(null, () => post('/sandbox/api/home/open', { user: ui.me }));
    }
    for (const block of state.home?.blocks || []) home.append(renderBlock(block, { home: true }));
    list.append(home);
  }

  function renderChannel(state) {
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

  function renderThread(state) {
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
    const divider = el(
      'div',
      'muted small',
      `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`,
    );
    divider.style.padding = '4px 20px';
    list.append(divider);
    for (const r of replies) list.append(renderMessage(r));
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function nodeArn(state, id) {
    const kind = id.startsWith('mi-') ? 'ssm' : 'ec2';
    const type = id.startsWith('mi-') ? 'managed-instance' : 'instance';
    return `arn:aws:${kind}:${state.region}:${state.account}:${type}/${id}`;
  }

  function cliError(state, node, reason) {
    const who = state.people.find((p) => p.id === ui.me);
    const caller = who?.arn ?? '';
    if (reason === 'access-denied')
      return `An error occurred (AccessDeniedException) when calling the StartSession operation: User: ${caller} is not authorized to perform: ssm:StartSession on resource: ${nodeArn(state, node.id)} because no identity-based policy allows the ssm:StartSession action`;
    if (reason === 'target-not-connected')
      return `An error occurred (TargetNotConnected) when calling the StartSession operation: ${node.id} is not connected.`;
    return `An error occurred (${reason}) when calling the StartSession operation.`;
  }

  function renderAccount(state) {
    const me = state.people.find((p) => p.id === ui.me);
    $('account-id').textContent = `Account ${state.account} · ${state.region}`;
    $('account-who').textContent = me?.principal
      ? `What IAM answers ${me.name} (${me.principal}) for ssm:StartSession right now, from the policies attached to them:`
      : `${me ? me.name : ui.me} is not mapped to an AWS principal: Keyturn refuses their requests.`;
    const nodes = $('nodes');
    nodes.textContent = '';
    for (const node of state.nodes) {
      const li = el('li', 'node');
      li.dataset.nodeId = node.id;
      li.dataset.decision = node.decision;
      const top = el('div', 'node-top');
      const ping = el('span', node.ping === 'Online' ? 'ping' : 'ping offline');
      ping.title = node.ping;
      top.append(ping, el('span', 'node-name', node.name));
      top.append(el('span', `decision ${node.decision}`, node.decision));
      li.append(top, el('div', 'mono muted node-id', node.id));
      const meta = el('div', 'node-meta');
      for (const [k, v] of Object.entries(node.tags)) meta.append(el('span', 'tag', `${k}=${v}`));
      if (node.ping !== 'Online') meta.append(el('span', 'tag offline', node.ping));
      li.append(meta);
      const start = el('button', 'tool', 'Start session');
      start.type = 'button';
      start.disabled = !me?.principal;
      start.addEventListener('click', () =>
        act(start, async () => {
          const answer = await post('/sandbox/api/session/start', { user: ui.me, nodeId: node.id });
          ui.terminal[node.id] = answer.ok
            ? {
                text: `$ aws ssm start-session --target ${node.id}\nStarting session with SessionId: ${answer.session.id}`,
                error: false,
              }
            : {
                text: `$ aws ssm start-session --target ${node.id}\n${cliError(state, node, answer.reason)}`,
                error: true,
              };
        }),
      );
      meta.append(start);
      const out = ui.terminal[node.id];
      if (out) li.append(el('pre', out.error ? 'terminal error' : 'terminal', out.text));
      nodes.append(li);
    }

    const sessions = $('sessions');
    sessions.textContent = '';
    if (state.sessions.length === 0) sessions.append(el('li', 'muted small', 'None.'));
    for (const s of state.sessions) {
      const li = el('li', 'session');
      li.dataset.sessionId = s.id;
      const node = state.nodes.find((n) => n.id === s.target);
      li.append(el('div', 'mono', s.id));
      const started = s.startedAt ? timeFormat.format(new Date(s.startedAt)) : '';
      li.append(
        el('div', 'muted', `${node ? node.name : s.target} · ${s.document || ''} · since ${started}`),
      );
      const exit = el('button', 'tool', 'exit');
      exit.type = 'button';
      exit.title = 'Type exit in the session: no API call, so only DescribeSessions notices';
      exit.addEventListener('click', () =>
        act(exit, () => post('/sandbox/api/session/exit', { user: ui.me, sessionId: s.id })),
      );
      li.append(exit);
      sessions.append(li);
    }
  }

  function renderModal(state) {
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

  function fillModal(view, errors) {
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

  function render() {
    const state = ui.state;
    if (!state) return;
    if (!ui.me || !state.people.some((p) => p.id === ui.me)) ui.me = state.me;
    const known =
      channelsOf(state).some((c) => c.id === ui.channel) || ui.channel === state.dm || ui.channel === HOME;
    if (!known) ui.channel = state.channels[0].id;
    renderWho(state);
    renderClock(state);
    renderSidebar(state);
    renderChannel(state);
    renderThread(state);
    renderAccount(state);
    renderModal(state);
  }

  // ---- composer -----------------------------------------------------------------------------------

  function suggestionsFor(text) {
    const state = ui.state;
    if (!state || !text.startsWith('/')) return [];
    const all = [];
    if (state.commands.includes('/access')) {
      all.push({ text: '/access help', hint: 'usage and the targets you can ask for' });
      for (const t of state.targets)
        all.push({
          text: `/access ${t.name} 1h `,
          hint: `ask for ${t.name}${t.description ? ` — ${t.description}` : ''}`,
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

  function showSuggestions() {
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

  async function send(input, threadTs) {
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

  function composer(form, input, threadTs) {
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

  composer($('composer'), $('composer-input'), () => undefined);
  composer($('thread-composer'), $('thread-input'), () => (ui.thread ? ui.thread.ts : undefined));
  $('composer-input').addEventListener('input', showSuggestions);
  $('composer-input').addEventListener('blur', () => {
    $('suggestions').hidden = true;
  });

  // ---- controls -----------------------------------------------------------------------------------

  $('who').addEventListener('change', (event) => {
    const wasDm = ui.state && ui.channel === ui.state.dm;
    ui.me = event.target.value;
    localStorage.setItem(STORE_KEY, ui.me);
    ui.terminal = {};
    ui.modalId = null;
    ui.lastJson = '';
    if (wasDm) ui.channel = '';
    refresh().catch((error) => toast(error.message));
  });

  for (const button of document.querySelectorAll('[data-advance]')) {
    button.addEventListener('click', () => {
      // What start-session printed belongs to the time it was clicked at.
      ui.terminal = {};
      act(button, () => post('/sandbox/api/clock', { advanceMs: Number(button.dataset.advance) }));
    });
  }

  $('reset').addEventListener('click', (event) => {
    if (!window.confirm('Forget every grant, message, policy and session, and go back to real time?')) return;
    ui.seen = {};
    localStorage.removeItem(SEEN_KEY);
    ui.terminal = {};
    ui.thread = null;
    act(event.currentTarget, () => post('/sandbox/api/reset', {}));
  });

  $('thread-close').addEventListener('click', () => {
    ui.thread = null;
    render();
  });

  function closeModal() {
    if (!ui.state?.modal) return;
    const viewId = ui.state.modal.id;
    $('modal').hidden = true;
    act(null, () => post('/sandbox/api/view/close', { user: ui.me, viewId }));
  }

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

  poll();
  setInterval(poll, POLL_MS);
})();
