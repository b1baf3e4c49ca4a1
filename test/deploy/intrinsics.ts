import type { Template } from './stack-files';

/** The account and region the template is evaluated in; any fixed values do. */
export const ACCOUNT = '111122223333';
export const REGION = 'ap-northeast-1';

/**
 * Resolves the CloudFormation intrinsics the stack's policies use, as CloudFormation would in
 * ACCOUNT/REGION. Anything it does not know is an error, so a new intrinsic cannot slip through
 * a policy test unevaluated.
 */
export function resolveIntrinsics(template: Template, value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(template, v));
  if (value === null || typeof value !== 'object') throw new Error(`cannot resolve ${String(value)}`);
  const entries = Object.entries(value);
  const [key, arg] = entries[0] ?? [];
  if (entries.length === 1 && key === 'Fn::Sub' && typeof arg === 'string') {
    return arg.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      const [logicalId, attribute] = name.split('.');
      return attribute ? getAtt(template, logicalId!, attribute) : ref(template, name);
    });
  }
  if (entries.length === 1 && key === 'Fn::GetAtt' && Array.isArray(arg)) {
    return getAtt(template, String(arg[0]), String(arg[1]));
  }
  if (entries.length === 1 && key === 'Ref' && typeof arg === 'string') return ref(template, arg);
  if (entries.length === 1 && key === 'Fn::Join' && Array.isArray(arg)) {
    const [separator, parts] = arg as [string, unknown[]];
    return parts.map((p) => resolveIntrinsics(template, p)).join(separator);
  }
  if (key?.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${key}`);
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(template, v)]));
}

function ref(template: Template, name: string): string {
  switch (name) {
    case 'AWS::AccountId':
      return ACCOUNT;
    case 'AWS::Region':
      return REGION;
    case 'AWS::Partition':
      return 'aws';
  }
  const resource = template.Resources[name];
  if (resource?.Type === 'AWS::SQS::Queue') {
    return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${resource.Properties.QueueName}`;
  }
  if (resource?.Type === 'AWS::DynamoDB::Table') return String(resource.Properties.TableName);
  throw new Error(`unsupported Ref ${name}`);
}

function getAtt(template: Template, logicalId: string, attribute: string): string {
  const resource = template.Resources[logicalId];
  if (resource?.Type === 'AWS::DynamoDB::Table' && attribute === 'Arn') {
    return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${resource.Properties.TableName}`;
  }
  if (resource?.Type === 'AWS::SQS::Queue' && attribute === 'Arn') {
    return `arn:aws:sqs:${REGION}:${ACCOUNT}:${resource.Properties.QueueName}`;
  }
  if (resource?.Type === 'AWS::Lambda::Function' && attribute === 'Arn') {
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${resource.Properties.FunctionName}`;
  }
  if (resource?.Type === 'AWS::IAM::Role' && attribute === 'Arn') {
    return `arn:aws:iam::${ACCOUNT}:role/${resolveIntrinsics(template, resource.Properties.RoleName)}`;
  }
  throw new Error(`unsupported Fn::GetAtt ${logicalId}.${attribute}`);
}

/**
 * A generic template's values (the grantor and forwarder templates: Fn::Sub over pseudo parameters,
 * Ref to parameters) as CloudFormation resolves them in `account`, with the given parameter values.
 * `${!…}` is Fn::Sub's escape for a literal `${…}`. Anything else is an error.
 */
export function resolveIn(account: string, parameters: Record<string, string>, value: unknown): unknown {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': account,
    'AWS::Partition': 'aws',
    'AWS::Region': 'ap-northeast-3',
    ...parameters,
  };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => resolveIn(account, parameters, v));
  if (value === null || typeof value !== 'object') throw new Error(`cannot resolve ${String(value)}`);
  const entries = Object.entries(value);
  const [key, arg] = entries[0] ?? [];
  if (entries.length === 1 && key === 'Fn::Sub' && typeof arg === 'string') {
    return arg.replace(/\$\{(!?)([^}]+)\}/g, (_m, escaped: string, name: string) => {
      if (escaped) return `\${${name}}`;
      const resolved = pseudo[name];
      if (resolved === undefined) throw new Error(`unsupported Fn::Sub ${name}`);
      return resolved;
    });
  }
  if (entries.length === 1 && key === 'Ref' && typeof arg === 'string') {
    const resolved = pseudo[arg];
    if (resolved === undefined) throw new Error(`unsupported Ref ${arg}`);
    return resolved;
  }
  if (key?.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${key}`);
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIn(account, parameters, v)]));
}
