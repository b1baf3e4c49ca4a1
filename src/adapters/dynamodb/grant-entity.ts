import { anyOf, Entity, type FormattedItem, item, list, map, nul, number, string } from 'dynamodb-toolbox';
import {
  type Ending,
  type Extension,
  GRANT_STATUSES,
  type Grant,
  type HistoryEvent,
} from '../../domain/grant';
import type { Principal } from '../../domain/principal';
import { createRequestKeys } from './request-keys';
import { approvalList, compact, messageRef, toApprovals, toMessageRef, writeId } from './stored-values';
import { byDayKeys, type KeyturnTable } from './table';

/**
 * Every member of a domain string union, listed as a record so the compiler insists on all of them:
 * a value the schema's enum lacked would be refused on write.
 */
function members<T extends string>(all: Record<T, true>): T[] {
  return Object.keys(all) as T[];
}

const ENDING_STATUSES = members<Ending['status']>({
  expired: true,
  released: true,
  revoked: true,
  failed: true,
});
const EXTENSION_STATES = members<Extension['state']>({
  pending: true,
  approved: true,
  extended: true,
  denied: true,
});
const HISTORY_EVENTS = members<HistoryEvent>({
  'approval-recorded': true,
  'ending-requested': true,
  'extension-requested': true,
  'extension-approval-recorded': true,
  'extension-approved': true,
  'extension-denied': true,
  extended: true,
});

const grantStatus = () => string().enum(...GRANT_STATUSES);

/**
 * The entities behind the grant store. Exported so tests can read indexes and stage crash states
 * through the same schemas the store writes with; the app only sees the GrantStore port.
 */
export function createGrantEntities(table: KeyturnTable) {
  const grant = new Entity({
    name: 'Grant',
    table,
    // The store always writes whole grants; toolbox timestamps would only be storage-side noise.
    timestamps: false,
    schema: item({
      id: string().key(),
      requestKey: string().optional(),
      requester: string(),
      // path: an IAM user's path (direct attach); sessionName: an access role's pinned session name.
      principal: map({
        kind: string().enum('user', 'role', 'access-role'),
        name: string(),
        path: string().optional(),
        sessionName: string().optional(),
      }),
      target: string(),
      account: string().optional(),
      region: string().optional(),
      durationMinutes: number(),
      reason: string(),
      status: grantStatus(),
      version: number(),
      requestedAt: string(),
      approvals: approvalList(),
      startsAt: string().optional(),
      expiresAt: string().optional(),
      policyArn: string().optional(),
      decidedBy: string().optional(),
      decidedAt: string().optional(),
      denyReason: string().optional(),
      failureReason: string().optional(),
      card: messageRef().optional(),
      ending: map({
        status: string().enum(...ENDING_STATUSES),
        by: string(),
        at: string(),
        reason: string().optional(),
      }).optional(),
      revokeLease: string().optional(),
      extension: map({
        minutes: number(),
        requestedBy: string(),
        requestedAt: string(),
        approvals: approvalList(),
        state: string().enum(...EXTENSION_STATES),
        newExpiresAt: string().optional(),
        decidedBy: string().optional(),
        decidedAt: string().optional(),
        denyReason: string().optional(),
        card: messageRef().optional(),
      }).optional(),
      extendedMinutes: number().optional(),
      runAsSet: string().optional(),
      sessionsEnded: number().optional(),
      history: list(
        map({
          at: string(),
          from: anyOf(nul(), grantStatus()),
          to: grantStatus(),
          event: string()
            .enum(...HISTORY_EVENTS)
            .optional(),
          by: string(),
          note: string().optional(),
        }),
      ),
      // Index attributes: required so no write can leave them out of sync with the grant,
      // hidden so reads hand back exactly the Grant that was written.
      gsi1pk: string().hidden(),
      gsi1sk: string().hidden(),
      gsi2pk: string().hidden(),
      gsi2sk: string().hidden(),
      gsi3pk: string().hidden(),
      gsi3sk: string().hidden(),
      writeId: writeId(),
    }),
    computeKey: ({ id }) => ({ pk: `GRANT#${id}`, sk: 'GRANT' }),
  });

  /** Points at the one open grant a requester may hold on a target; its key is the uniqueness guard. */
  const openSlot = new Entity({
    name: 'OpenSlot',
    table,
    timestamps: false,
    schema: item({
      requester: string().key(),
      target: string().key(),
      grantId: string(),
      writeId: writeId(),
    }),
    computeKey: ({ requester, target }) => ({ pk: `OPEN#${requester}#${target}`, sk: 'OPEN' }),
  });

  /** A one-time side effect of a grant, claimed before it is performed. Lives in the grant's partition. */
  const effect = new Entity({
    name: 'GrantEffect',
    table,
    timestamps: false,
    schema: item({
      grantId: string().key(),
      effect: string().key(),
      at: string(),
      writeId: writeId(),
    }),
    computeKey: ({ grantId, effect }) => ({ pk: `GRANT#${grantId}`, sk: `EFFECT#${effect}` }),
  });

  const request = createRequestKeys(table, 'GRANT');

  return { grant, openSlot, effect, request };
}

export type GrantEntities = ReturnType<typeof createGrantEntities>;

/** The index attributes, recomputed from the grant on every write. */
export function grantIndexKeys(grant: Grant) {
  return {
    gsi1pk: `STATUS#${grant.status}`,
    // The grant's due time, so the sweeper can query `<= now`: an ending grant is due when its ending
    // was decided (a crashed revoke is picked up at once), an active one at expiry, others by age.
    gsi1sk: grant.ending?.at ?? grant.expiresAt ?? grant.requestedAt,
    ...byDayKeys(grant.requestedAt),
    gsi3pk: `REQUESTER#${grant.requester}`,
    gsi3sk: grant.requestedAt,
  };
}

type StoredGrant = FormattedItem<GrantEntities['grant']>;

/** Grants written before access roles have `{ kind, name }` only: a user or role attached directly. */
function toPrincipal(stored: StoredGrant['principal']): Principal {
  if (stored.kind === 'access-role') {
    return { kind: 'access-role', name: stored.name, sessionName: stored.sessionName ?? '' };
  }
  if (stored.kind === 'user') {
    return stored.path === undefined
      ? { kind: 'user', name: stored.name }
      : { kind: 'user', name: stored.name, path: stored.path };
  }
  return stored.path === undefined
    ? { kind: 'role', name: stored.name }
    : { kind: 'role', name: stored.name, path: stored.path };
}

/**
 * Rebuilds the domain value, so an optional absent when written stays absent rather than `undefined`.
 * Also for grants read from an index (every index projects all attributes): the digest reads them so.
 */
export function toGrant(stored: StoredGrant): Grant {
  const { principal, approvals, card, history, ending, extension, ...rest } = stored;
  const grant: Grant = {
    ...compact(rest),
    principal: toPrincipal(principal),
    approvals: toApprovals(approvals),
    history: history.map((entry) => compact({ ...entry })),
  };
  if (card !== undefined) grant.card = toMessageRef(card);
  if (ending !== undefined) grant.ending = compact({ ...ending });
  if (extension !== undefined) {
    const { approvals: extensionApprovals, card: extensionCard, ...fields } = extension;
    grant.extension = compact({ ...fields, approvals: toApprovals(extensionApprovals) });
    if (extensionCard !== undefined) grant.extension.card = toMessageRef(extensionCard);
  }
  return grant;
}
