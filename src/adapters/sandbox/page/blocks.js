// Block Kit as Slack draws it: sections, context, actions, rich text, inputs. A button posts its click
// to the sandbox API, which signs it for the bot as Slack would.
import { act, post } from './api.js';
import { formatSlackDate, fullFormat } from './dates.js';
import { mrkdwn, textObject } from './mrkdwn.js';
import { el, nameOf, toast, ui } from './ui.js';

export function renderButton(element, message, block) {
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
          if (answer && answer.ok === false && answer.status) toast(`Keyturn answered HTTP ${answer.status}`);
        }),
      ),
    );
  } else b.disabled = true;
  return b;
}

export function renderRichText(element, into) {
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

export function renderRichInline(elements, into) {
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
      node = el('span', '', e.unicode ? String.fromCodePoint(Number.parseInt(e.unicode, 16)) : `:${e.name}:`);
    else node = el('span', 'unsupported', `[${e.type}]`);
    into.append(node);
  }
}

export function renderInput(block, errors) {
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

export function renderBlock(block, message, errors) {
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

export function renderContent(message) {
  const box = el('div', 'message-content');
  if (message.blocks?.length) {
    for (const block of message.blocks) box.append(renderBlock(block, message));
  } else box.append(mrkdwn(message.text || ''));
  return box;
}
