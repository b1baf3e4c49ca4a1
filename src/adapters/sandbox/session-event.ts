import type { SessionInfo } from '../../ports/fleet';

/**
 * A simulated session's start as EventBridge delivers CloudTrail's record of `StartSession` on AWS
 * (FACTS.md: source aws.ssm, detail-type "AWS API Call via CloudTrail"), so the same handler reads it.
 */
export interface SandboxSessionEvent {
  source: 'aws.ssm';
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

/** CloudTrail's record of a successful StartSession by the session's owner. */
export function startSessionEvent(session: SessionInfo, at: string): SandboxSessionEvent {
  return {
    source: 'aws.ssm',
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
