import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { decideOnGrant } from '../../../src/app/decide';
import { postRequestCard } from '../../../src/app/post-request-card';
import { requestAccess } from '../../../src/app/request-access';
import type { DecisionAction } from '../../../src/domain/approval';
import type { Grant, MessageRef } from '../../../src/domain/grant';
import type { ManagedNode } from '../../../src/domain/node';
import type { RequestCardView } from '../../../src/ports/chat';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  prodRaspi,
  RecordingChat,
  RecordingQueue,
  silentLogger,
  testConfig,
} from '../../support/fakes';

const RASPI_NODES: ManagedNode[] = [
  { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'ConnectionLost' },
];

/**
 * Slack answering the post only after an approver has already decided: the decision lands between
 * posting the card and storing its reference, so the decision found no card to update.
 */
class DecidedWhilePosting extends RecordingChat {
  /** What happens while Slack is still answering the post; nothing, unless a test says otherwise. */
  decide: () => Promise<unknown> = async () => {};
  override async postRequestCard(channel: string, view: RequestCardView): Promise<MessageRef> {
    await this.decide();
    return super.postRequestCard(channel, view);
  }
}

async function requested() {
  const config = testConfig();
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  const chat = new DecidedWhilePosting({ S0SREGROUP: ['U0DAVE'] });
  const fleet = new SimulatedAccount({
    accountId: config.aws.accountId,
    region: config.aws.region,
    nodes: config.sandbox.fleet,
    clock,
  });
  const deps = {
    config,
    grants,
    queue,
    chat,
    clock,
    aws: onePlace({ fleet }),
    logger: silentLogger,
    newId: () => 'g1',
  };
  await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
  queue.jobs.length = 0;
  const pending = await grants.get('g1');
  if (!pending) throw new Error('request was not stored');
  return { deps, grants, queue, chat, fleet, pending };
}

describe('postRequestCard', () => {
  it('posts one card to the requests channel with the fleet nodes and stores its reference', async () => {
    const { deps, grants, chat, pending } = await requested();

    await postRequestCard(deps, 'g1');

    expect(chat.cards).toEqual([
      {
        ref: chat.cards[0]?.ref,
        channel: 'C0APPROVALS',
        view: { grant: pending, target: prodRaspi, nodes: RASPI_NODES },
      },
    ]);
    const ref = chat.cards[0]!.ref;
    expect(ref.channel).toBe('C0APPROVALS');
    const stored = await grants.get('g1');
    expect(stored).toEqual({ ...pending, card: ref, version: pending.version + 1 });
    expect(chat.cardUpdates).toEqual([]);
  });

  it('posts nothing on redelivery once the card is stored, and asks SSM nothing', async () => {
    const { deps, chat, fleet } = await requested();
    await postRequestCard(deps, 'g1');
    fleet.calls.length = 0;

    await postRequestCard(deps, 'g1');

    expect(chat.cards).toHaveLength(1);
    expect(fleet.calls).toEqual([]);
  });

  it('posts one card when the job is delivered 10 times at once', async () => {
    const { deps, grants, chat } = await requested();

    await Promise.all(Array.from({ length: 10 }, () => postRequestCard(deps, 'g1')));

    expect(chat.cards).toHaveLength(1);
    expect((await grants.get('g1'))?.card).toEqual(chat.cards[0]?.ref);
  });

  it.each([
    ['approve', 'approved'],
    ['deny', 'denied'],
  ] as const)(
    'updates the card when the grant was decided (%s) between posting and storing',
    async (action: DecisionAction, status) => {
      const { deps, grants, chat } = await requested();
      let decided: Grant | undefined;
      chat.decide = async () => {
        const result = await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action });
        if (result.outcome === 'refused') throw new Error(`decision refused: ${result.reason}`);
        decided = result.grant;
      };

      await postRequestCard(deps, 'g1');

      expect(decided?.status).toBe(status);
      expect(decided?.card).toBeUndefined();
      const stored = await grants.get('g1');
      expect(stored?.status).toBe(status);
      expect(stored?.card).toEqual(chat.cards[0]?.ref);
      expect(chat.cards).toHaveLength(1);
      expect(chat.cardUpdates).toEqual([
        { ref: chat.cards[0]?.ref, view: { grant: stored, target: prodRaspi, nodes: RASPI_NODES } },
      ]);
    },
  );

  it('keeps a card reference the decision already stored', async () => {
    const { deps, grants, chat } = await requested();
    // The click came from the card being posted: Slack showed it before the post's response arrived.
    const clicked = { channel: 'C0APPROVALS', ts: '1700000000.000001' };
    chat.decide = () =>
      decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve', card: clicked });

    await postRequestCard(deps, 'g1');

    expect(chat.cards[0]?.ref).toEqual(clicked);
    // The decision stored the card it was clicked on; its own announcement updates that card.
    expect((await grants.get('g1'))?.card).toEqual(clicked);
    expect(chat.cardUpdates).toEqual([]);
  });

  it('does nothing for an unknown grant or a target no longer configured', async () => {
    const { deps, chat, fleet } = await requested();

    await postRequestCard(deps, 'nope');
    await postRequestCard({ ...deps, config: testConfig({ targets: {} }) }, 'g1');

    expect(chat.cards).toEqual([]);
    expect(fleet.calls).toEqual([]);
  });
});
