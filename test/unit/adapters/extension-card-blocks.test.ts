import type { ExtensionCardView } from '../../../src/ports/chat';
import { ACTION_EXTENSION_APPROVE, ACTION_EXTENSION_DENY } from '../../../src/adapters/slack/action-ids';
import { extensionCard } from '../../../src/adapters/slack/extension-card-blocks';
import {
  target,
  pendingExtension,
  extending,
  extensionPending,
  approvedExtension,
  extensionDone,
  golden,
  wire,
  allText,
} from '../../support/grant-messages';

describe('issue 3 golden files', () => {
  it('extension card, pending, with one of two approvals', () => {
    expect(wire(extensionCard(extensionPending))).toStrictEqual(golden('extension-card-pending'));
  });

  it('extension card, extended', () => {
    expect(wire(extensionCard(extensionDone))).toStrictEqual(golden('extension-card-extended'));
  });
});

describe('extensionCard', () => {
  const status = (view: ExtensionCardView) => {
    const last = extensionCard(view).blocks.at(-1);
    return last?.type === 'section' ? (last.text?.text ?? '') : '';
  };

  it('puts the grant id and the extension action ids on its buttons', () => {
    const actions = extensionCard(extensionPending).blocks.filter((b) => b.type === 'actions');
    expect(actions).toEqual([
      expect.objectContaining({
        elements: [
          expect.objectContaining({ action_id: ACTION_EXTENSION_APPROVE, value: 'a1b2', style: 'primary' }),
          expect.objectContaining({ action_id: ACTION_EXTENSION_DENY, value: 'a1b2', style: 'danger' }),
        ],
      }),
    ]);
  });

  it.each<[string, ExtensionCardView['outcome'], string]>([
    [
      'denied',
      { kind: 'denied', by: 'U0DAVE', reason: 'finish tomorrow' },
      '*Denied* by <@U0DAVE>: finish tomorrow',
    ],
    ['denied without a reason', { kind: 'denied', by: 'U0DAVE' }, '*Denied* by <@U0DAVE>: no reason given'],
    ['dropped', { kind: 'dropped' }, '*Dropped:* the grant ended first'],
  ])('shows the %s outcome without buttons', (_, outcome, expected) => {
    const view: ExtensionCardView = { ...extensionPending, outcome };
    expect(status(view)).toBe(expected);
    expect(extensionCard(view).blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(extensionCard(view).text).toMatch(new RegExp(`: ${outcome?.kind}$`));
  });

  it("reads a finished extension's own state when the view carries no outcome", () => {
    const denied: ExtensionCardView = {
      ...extensionPending,
      extension: { ...pendingExtension, state: 'denied', decidedBy: 'U0DAVE', denyReason: '<!here> later' },
    };
    expect(status(denied)).toBe('*Denied* by <@U0DAVE>: &lt;!here&gt; later');
    expect(extensionCard(denied).blocks.some((b) => b.type === 'actions')).toBe(false);
    const { outcome: _, ...done } = extensionDone;
    expect(extensionCard(done)).toStrictEqual(extensionCard(extensionDone));
  });

  it('shows an approved extension that is still being applied, without buttons', () => {
    const view: ExtensionCardView = { ...extensionPending, extension: approvedExtension };
    expect(status(view)).toBe('*Approved* by <@U0CAROL>, <@U0DAVE> — extending…');
    expect(extensionCard(view).blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it("falls back to the target's maxDuration as the limit, and names who asked when it was not the requester", () => {
    const view: ExtensionCardView = {
      ...extensionPending,
      target,
      extension: { ...pendingExtension, requestedBy: 'U0DAVE' },
    };
    const text = allText(extensionCard(view));
    expect(text).toContain('*Total length*\n1h30m (limit 4h)');
    expect(text).toContain('*Requester*\n<@U0ALICE> (extension asked by <@U0DAVE>)');
  });

  it('escapes the original reason and the deny reason', () => {
    const view: ExtensionCardView = {
      ...extensionPending,
      grant: { ...extending, reason: '<!here> fix it' },
      outcome: { kind: 'denied', by: 'U0DAVE', reason: 'no <!channel> & no' },
    };
    const text = allText(extensionCard(view));
    expect(text).toContain('&lt;!here&gt; fix it');
    expect(text).toContain('no &lt;!channel&gt; &amp; no');
    expect(text).not.toMatch(/<!here>|<!channel>/);
  });
});
