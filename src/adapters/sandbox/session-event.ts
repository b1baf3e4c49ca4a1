import type { Place } from '../../domain/place';
import type { SessionInfo } from '../../ports/fleet';

/**
 * A simulated session's start as EventBridge delivers CloudTrail's record of `StartSession` on AWS
 * (FACTS.md: source aws.ssm, detail-type "AWS API Call via CloudTrail"), so the same handler reads it.
 * The envelope names the account and region the call was made in, as a member account's forwarded event does.
 */
export interface SandboxSessionEvent {
  source: 'aws.ssm';
  account: string;
  region: string;
  'detail-type': 'AWS API Call via CloudTrail';
  detail: {
    eventSource: 'ssm.amazonaws.com';
    eventName: 'StartSession';
    eventTime: string;
    userIdentity: { arn: string };
    requestParameters: { target: string; documentName: string };
    responseElements: { sessionId: string };
  };
}

/** CloudTrail's record of a successful StartSession by the session's owner, in the node's account and region. */
export function startSessionEvent(session: SessionInfo, place: Place, at: string): SandboxSessionEvent {
  return {
    source: 'aws.ssm',
    account: place.accountId,
    region: place.region,
    'detail-type': 'AWS API Call via CloudTrail',
    detail: {
      eventSource: 'ssm.amazonaws.com',
      eventName: 'StartSession',
      eventTime: session.startedAt ?? at,
      userIdentity: { arn: session.owner },
      requestParameters: {
        target: session.target,
        documentName: session.document ?? 'SSM-SessionManagerRunShell',
      },
      responseElements: { sessionId: session.id },
    },
  };
}
