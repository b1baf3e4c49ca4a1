import type { ModalView } from '@slack/types';
import {
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
  VIEW_EXTENSION_DENY_REASON,
} from './action-ids';
import { DENY_REASON_MAX_LENGTH, escapeMrkdwn, plain, section } from './block-kit';

interface ReasonModal {
  callbackId: string;
  grantId: string;
  title: string;
  prompt: string;
}

function reasonModal(m: ReasonModal): ModalView {
  return {
    type: 'modal',
    callback_id: m.callbackId,
    // private_metadata comes back untouched in view_submission (max 3,000 characters).
    private_metadata: m.grantId,
    // Modal title, submit and close labels are capped at 24 characters.
    title: plain(m.title, 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(m.prompt),
      {
        type: 'input',
        block_id: BLOCK_DENY_REASON,
        optional: true,
        label: plain('Reason', 2000),
        element: {
          type: 'plain_text_input',
          action_id: INPUT_DENY_REASON,
          multiline: true,
          max_length: DENY_REASON_MAX_LENGTH,
        },
      },
    ],
  };
}

/** Asks the denier for an optional reason; the listener reads it from BLOCK_DENY_REASON / INPUT_DENY_REASON. */
export function denyReasonModal(grantId: string): ModalView {
  return reasonModal({
    callbackId: VIEW_DENY_REASON,
    grantId,
    title: 'Deny access request',
    prompt: `Deny request *${escapeMrkdwn(grantId)}*? The requester sees the reason you give.`,
  });
}

/** Like denyReasonModal, for an extension: same input ids, its own callback id. */
export function extensionDenyReasonModal(grantId: string): ModalView {
  return reasonModal({
    callbackId: VIEW_EXTENSION_DENY_REASON,
    grantId,
    title: 'Deny extension',
    prompt: `Deny extending request *${escapeMrkdwn(grantId)}*? The requester sees the reason you give; their access still ends at its current time.`,
  });
}
