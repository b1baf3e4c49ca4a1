import {
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
  VIEW_EXTENSION_DENY_REASON,
} from '../../../src/adapters/slack/action-ids';
import { denyReasonModal, extensionDenyReasonModal } from '../../../src/adapters/slack/deny-reason-blocks';

describe('denyReasonModal', () => {
  it('carries the grant id and the named ids, with an optional reason of at most 500 characters', () => {
    const view = denyReasonModal('a1b2');
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEW_DENY_REASON,
      private_metadata: 'a1b2',
      submit: { type: 'plain_text', text: 'Deny' },
    });
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    const input = view.blocks.find((b) => b.type === 'input');
    expect(input).toMatchObject({
      block_id: BLOCK_DENY_REASON,
      optional: true,
      element: { type: 'plain_text_input', action_id: INPUT_DENY_REASON, multiline: true, max_length: 500 },
    });
  });
});

describe('extensionDenyReasonModal', () => {
  it('has its own callback id, the grant id, and the shared reason input', () => {
    const view = extensionDenyReasonModal('a1b2');
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEW_EXTENSION_DENY_REASON,
      private_metadata: 'a1b2',
      submit: { type: 'plain_text', text: 'Deny' },
    });
    expect(VIEW_EXTENSION_DENY_REASON).not.toBe(VIEW_DENY_REASON);
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(view.blocks.find((b) => b.type === 'input')).toMatchObject({
      block_id: BLOCK_DENY_REASON,
      optional: true,
      element: { action_id: INPUT_DENY_REASON, max_length: 500 },
    });
  });
});
