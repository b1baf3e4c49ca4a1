import path from 'node:path';
import { findButton, viewStateValues } from '../../../src/adapters/sandbox/block-kit-input';
import { isLoopbackHost } from '../../../src/adapters/sandbox/request-guard';
import { startSessionEvent } from '../../../src/adapters/sandbox/session-event';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
} from '../../../src/adapters/slack/action-ids';
import { denyReasonModal } from '../../../src/adapters/slack/deny-reason-blocks';
import { requestCard } from '../../../src/adapters/slack/request-card-blocks';
import { parseSessionEvent } from '../../../src/app/record-session-event';
import type { Grant } from '../../../src/domain/grant';
import { manifestCommands } from '../../../src/main/sandbox-mode';
import { prodRaspi } from '../../support/fakes';

const pending: Grant = {
  id: 'a1b2c3',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'replace sensor on line 3',
  status: 'pending',
  approvals: [],
  requestedAt: '2026-11-23T10:00:00Z',
  history: [],
  version: 1,
} as unknown as Grant;

describe('findButton', () => {
  const card = requestCard({ grant: pending, target: prodRaspi, nodes: [] });

  it('finds a button of the bot’s own card by action id, with the value Slack would send back', () => {
    expect(findButton(card.blocks, ACTION_APPROVE)).toMatchObject({ value: 'a1b2c3', label: 'Approve' });
    expect(findButton(card.blocks, ACTION_DENY)).toMatchObject({ value: 'a1b2c3', label: 'Deny' });
  });

  it('finds nothing the message does not carry, so no click can be forged through the page', () => {
    expect(findButton(card.blocks, 'keyturn.grant.revoke')).toBeUndefined();
    expect(findButton([], ACTION_APPROVE)).toBeUndefined();
  });

  it('looks in section accessories too, and honours a block id when both sides have one', () => {
    const blocks = [
      {
        type: 'section',
        block_id: 'one',
        accessory: { type: 'button', action_id: 'x', value: '1', text: { type: 'plain_text', text: 'One' } },
      },
      {
        type: 'actions',
        block_id: 'two',
        elements: [{ type: 'button', action_id: 'x', value: '2', text: { type: 'plain_text', text: 'Two' } }],
      },
    ];
    expect(findButton(blocks, 'x')).toMatchObject({ value: '1', blockId: 'one' });
    expect(findButton(blocks, 'x', 'two')).toMatchObject({ value: '2', blockId: 'two' });
  });
});

describe('viewStateValues', () => {
  const modal = denyReasonModal('a1b2c3') as unknown as Record<string, unknown>;

  it('builds view.state.values as Slack does: block id → action id → typed value', () => {
    const typed = { [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: 'not today' } };
    expect(viewStateValues(modal, typed)).toEqual({
      [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: { type: 'plain_text_input', value: 'not today' } },
    });
  });

  it('sends null for an input left empty, and ignores values for inputs the view does not have', () => {
    expect(viewStateValues(modal, { other: { x: 'y' } })).toEqual({
      [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: { type: 'plain_text_input', value: null } },
    });
  });
});

describe('isLoopbackHost', () => {
  it.each(['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'localhost'])('accepts %s', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['evil.example:3000', 'localhost.evil.example', '10.0.0.5:3000', undefined])(
    'refuses %s',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});

describe('startSessionEvent', () => {
  it('is a CloudTrail StartSession record the session-events handler reads like one from AWS', () => {
    const event = startSessionEvent(
      {
        id: 'alice-0123456789abcdef0',
        owner: 'arn:aws:iam::123456789012:user/alice',
        target: 'mi-0a1b2c3d4e5f60001',
        startedAt: '2026-11-23T10:05:00.000Z',
        document: 'SSM-SessionManagerRunShell',
        status: 'Connected',
      },
      { accountId: '444455556666', region: 'eu-central-1' },
      '2026-11-23T10:05:01.000Z',
    );
    // The envelope says where the call was made, as a member account's forwarded event does.
    expect(event).toMatchObject({ account: '444455556666', region: 'eu-central-1' });
    expect(parseSessionEvent(event)).toEqual({
      ok: true,
      observation: {
        source: 'start-call',
        id: 'alice-0123456789abcdef0',
        owner: 'arn:aws:iam::123456789012:user/alice',
        nodeId: 'mi-0a1b2c3d4e5f60001',
        at: '2026-11-23T10:05:00.000Z',
        documentName: 'SSM-SessionManagerRunShell',
      },
    });
  });
});

describe('manifestCommands', () => {
  it('offers the slash commands the Slack app defines', () => {
    expect(manifestCommands()).toEqual(['/access', '/run']);
  });

  it('falls back to /access when the manifest cannot be read', () => {
    expect(manifestCommands(path.join(__dirname, 'no-such-manifest.yml'))).toEqual(['/access']);
  });
});
