import { parseAccessCommand } from '../domain/access-command';
import { type Grant, isOpen } from '../domain/grant';
import { isApprover } from './approval-click';
import type { AckDeps, Deps } from './deps';
import { cancelRequest, type EndResult, releaseGrant, revokeByApprover } from './end-grant';
import { type ExtensionRequestResult, requestExtension } from './extend-grant';
import { type RequestAccessResult, requestAccess } from './request-access';

export type AccessCommandResult =
  | { kind: 'request'; result: RequestAccessResult }
  | { kind: 'list'; mine: Grant[]; onMyTargets: Grant[] }
  | { kind: 'done' | 'revoke' | 'cancel'; result: EndResult }
  | { kind: 'extend'; result: ExtensionRequestResult }
  /** A subcommand that needs a grant id was given none. */
  | { kind: 'needs-id'; command: 'revoke' | 'cancel' | 'extend' };

type CommandDeps = Pick<Deps, 'config' | 'grants' | 'queue' | 'clock' | 'newId'> & Pick<AckDeps, 'chat'>;

/** Everything `/access` can be asked, each answered by its use case. */
export async function runAccessCommand(
  deps: CommandDeps,
  /** `requestKey`: Slack's `trigger_id`, so a retried or replayed request opens nothing new. */
  input: { user: string; text: string; requestKey?: string },
): Promise<AccessCommandResult> {
  const command = parseAccessCommand(input.text);
  switch (command.kind) {
    case 'help':
    case 'request':
      return { kind: 'request', result: await requestAccess(deps, input) };
    case 'list':
      return { kind: 'list', ...(await listGrants(deps, input.user)) };
    case 'done':
      return { kind: 'done', result: await releaseGrant(deps, { user: input.user, ...command }) };
    case 'revoke':
      if (!command.grantId) return { kind: 'needs-id', command: 'revoke' };
      return {
        kind: 'revoke',
        result: await revokeByApprover(deps, {
          user: input.user,
          grantId: command.grantId,
          ...(command.reason ? { reason: command.reason } : {}),
        }),
      };
    case 'cancel':
      if (!command.grantId) return { kind: 'needs-id', command: 'cancel' };
      return {
        kind: 'cancel',
        result: await cancelRequest(deps, { user: input.user, grantId: command.grantId }),
      };
    case 'extend':
      if (!command.grantId) return { kind: 'needs-id', command: 'extend' };
      return {
        kind: 'extend',
        result: await requestExtension(deps, {
          user: input.user,
          grantId: command.grantId,
          ...(command.durationText ? { durationText: command.durationText } : {}),
          ...(input.requestKey ? { requestKey: input.requestKey } : {}),
        }),
      };
  }
}

/** `/access list`: the caller's open grants; approvers also see every active grant on their targets. */
export async function listGrants(
  deps: Pick<Deps, 'config' | 'grants'> & Pick<AckDeps, 'chat'>,
  user: string,
): Promise<{ mine: Grant[]; onMyTargets: Grant[] }> {
  const mine = (await deps.grants.listByRequester(user)).filter((g) => isOpen(g.status));
  const approving = new Set<string>();
  for (const target of Object.values(deps.config.targets)) {
    if (await isApprover(deps, target, user)) approving.add(target.name);
  }
  const onMyTargets =
    approving.size === 0
      ? []
      : (await deps.grants.listByStatus('active')).filter(
          (g) => approving.has(g.target) && g.requester !== user,
        );
  return { mine, onMyTargets };
}
