/** A node Session Manager can reach: an EC2 instance (`i-…`) or a hybrid managed instance (`mi-…`, e.g. a Raspberry Pi). */
export interface ManagedNode {
  id: string;
  name?: string;
  ping: 'Online' | 'ConnectionLost' | 'Inactive' | 'Unknown';
}

/** The ARN `ssm:StartSession` is authorized against: EC2 instances and hybrid nodes live in different services. */
export function nodeArn(
  aws: { partition: string; region: string; accountId: string },
  nodeId: string,
): string {
  const { partition, region, accountId } = aws;
  return nodeId.startsWith('mi-')
    ? `arn:${partition}:ssm:${region}:${accountId}:managed-instance/${nodeId}`
    : `arn:${partition}:ec2:${region}:${accountId}:instance/${nodeId}`;
}

export function countOnline(nodes: readonly ManagedNode[]): {
  total: number;
  online: number;
  offline: number;
} {
  const online = nodes.filter((n) => n.ping === 'Online').length;
  return { total: nodes.length, online, offline: nodes.length - online };
}
