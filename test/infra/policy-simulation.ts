// An offline policy-simulation layer over a synthesised template: it resolves the template's
// intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select) to placeholder physical ids of
// the right ARN shape, collects the policies AWS would evaluate for one request (the
// principal's identity policies, the secret's resource policy, the key policy, the
// function's resource policy built from its AWS::Lambda::Permission resources) and asks
// @cloud-copilot/iam-simulate for the decision. No AWS call, no network.
import { runSimulation } from '@cloud-copilot/iam-simulate';

import { ACCOUNT, PROD_STACK, REGION } from './helpers.ts';

export { ACCOUNT, REGION };
export const PARTITION = 'aws';
export const STACK_NAME = PROD_STACK;
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK_NAME}/00000000-1111-2222-3333-444444444444`;

/** The random suffix Secrets Manager appends to a new secret's ARN (this one is the deployed secret's). */
export const DEPLOYED_SUFFIX = 'AbCdEf';

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}
export interface CfnTemplate {
  Resources: Record<string, Resource>;
}
export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, Json>[];
}

/** Physical ids by resource type, of the shape AWS gives them (Ref and the Arn attribute). */
function physical(logicalId: string, r: Resource, attribute?: string): string {
  const name = logicalId;
  switch (r.Type) {
    case 'AWS::SecretsManager::Secret':
      return `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${r.Properties?.Name as string}-${DEPLOYED_SUFFIX}`;
    case 'AWS::IAM::Role':
      return attribute === 'Arn' ? `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}` : name;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:${PARTITION}:iam::${ACCOUNT}:policy/${name}`;
    case 'AWS::Lambda::Function':
      return attribute === 'Arn' ? `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${name}` : name;
    case 'AWS::KMS::Key':
      return attribute === 'Arn' ? `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${name}` : name;
    case 'AWS::SQS::Queue':
      return attribute === 'Arn'
        ? `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${name}`
        : `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
    case 'AWS::SNS::Topic':
      return `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:${name}`;
    case 'AWS::Logs::LogGroup':
      return attribute === 'Arn' ? `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${name}:*` : name;
    case 'AWS::Lambda::LayerVersion':
      return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:layer:${name}:1`;
    default:
      return attribute ? `${name}.${attribute}` : name;
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': PARTITION,
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::StackId': STACK_ID,
  'AWS::StackName': STACK_NAME,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Resolves every intrinsic in `value` against the template; throws on one it does not know. */
export function resolve(template: CfnTemplate, value: Json): Json {
  const ref = (id: string, attribute?: string): string => {
    if (attribute === undefined && id in PSEUDO) return PSEUDO[id] as string;
    const r = template.Resources[id];
    if (!r) throw new Error(`unresolvable reference ${id}${attribute ? `.${attribute}` : ''}`);
    return physical(id, r, attribute);
  };
  const go = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(go);
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v as Record<string, Json>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, Json];
      if (key === 'Ref') return ref(arg as string);
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? (arg as string[]) : (arg as string).split('.');
        return ref(id as string, attribute);
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = arg as [string, Json[]];
        return (go(parts) as string[]).join(separator);
      }
      if (key === 'Fn::Select') {
        const [index, list] = arg as [number, Json];
        return (go(list) as Json[])[Number(index)];
      }
      if (key === 'Fn::Sub') {
        const [text, vars] = Array.isArray(arg)
          ? (arg as [string, Record<string, Json>])
          : [arg as string, {}];
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in vars) return String(go(vars[name]));
          const [id, attribute] = name.split('.');
          return ref(id as string, attribute);
        });
      }
      if (key.startsWith('Fn::')) throw new Error(`intrinsic ${key} is not resolved by the simulation layer`);
    }
    return Object.fromEntries(entries.map(([k, inner]) => [k, go(inner)]));
  };
  return go(value);
}

/** The logical id of the one resource of `type` whose properties satisfy `match`. */
export function logicalIdOf(
  template: CfnTemplate,
  type: string,
  match: (r: Resource) => boolean = () => true,
): string {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === type && match(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return (found[0] as [string, Resource])[0];
}

/** The identity policies attached to a role of the template (inline, AWS::IAM::Policy, managed). */
export function rolePolicies(
  template: CfnTemplate,
  roleLogicalId: string,
): { name: string; policy: PolicyDocument }[] {
  const out: { name: string; policy: PolicyDocument }[] = [];
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not a role`);
  for (const p of (role.Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: Json }[]) {
    out.push({ name: p.PolicyName, policy: resolve(template, p.PolicyDocument) as PolicyDocument });
  }
  const attachedTo = (r: Resource) =>
    ((r.Properties?.Roles ?? []) as Json[]).some((x) => (x as { Ref?: string }).Ref === roleLogicalId);
  for (const [id, r] of Object.entries(template.Resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && attachedTo(r)) {
      out.push({ name: id, policy: resolve(template, r.Properties?.PolicyDocument) as PolicyDocument });
    }
  }
  const managed = (role.Properties?.ManagedPolicyArns ?? []) as Json[];
  if (managed.length > 0) {
    throw new Error(
      `${roleLogicalId} has managed policies the simulation does not know: ${JSON.stringify(managed)}`,
    );
  }
  return out;
}

/** The resource policy of the secret (AWS::SecretsManager::ResourcePolicy naming it). */
export function secretPolicy(template: CfnTemplate, secretLogicalId: string): PolicyDocument {
  const id = logicalIdOf(
    template,
    'AWS::SecretsManager::ResourcePolicy',
    (r) => (r.Properties?.SecretId as { Ref?: string } | undefined)?.Ref === secretLogicalId,
  );
  return resolve(template, template.Resources[id]?.Properties?.ResourcePolicy) as PolicyDocument;
}

/** The key policy of a key in the template. */
export function keyPolicy(template: CfnTemplate, keyLogicalId: string): PolicyDocument {
  return resolve(template, template.Resources[keyLogicalId]?.Properties?.KeyPolicy) as PolicyDocument;
}

/**
 * The function's resource policy as Lambda renders its permissions: one statement per
 * AWS::Lambda::Permission, SourceAccount as `StringEquals AWS:SourceAccount` and SourceArn as
 * `ArnLike AWS:SourceArn` (the form get-policy shows).
 */
export function functionPolicy(template: CfnTemplate, functionLogicalId: string): PolicyDocument {
  const functionArn = physical(functionLogicalId, template.Resources[functionLogicalId] as Resource, 'Arn');
  const statements: Record<string, Json>[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Permission') continue;
    const p = resolve(template, r.Properties) as Record<string, string>;
    if (p.FunctionName !== functionArn && p.FunctionName !== functionLogicalId) continue;
    const principal = p.Principal as string;
    const condition: Record<string, Record<string, string>> = {};
    if (p.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': p.SourceAccount };
    if (p.SourceArn) condition.ArnLike = { 'AWS:SourceArn': p.SourceArn };
    statements.push({
      Sid: id,
      Effect: 'Allow',
      Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
      Action: p.Action,
      Resource: functionArn,
      ...(Object.keys(condition).length ? { Condition: condition } : {}),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Request {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly identityPolicies: readonly { name: string; policy: PolicyDocument }[];
  readonly resourcePolicy?: PolicyDocument | undefined;
  readonly context?: Record<string, string | string[]>;
}

/** The simulator's decision for one request; throws when it ignored a context key given. */
export async function decide(request: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        // AWS sets aws:PrincipalArn on every request an IAM principal signs; the simulator
        // takes context keys as given, so the layer supplies it as AWS would.
        contextVariables: {
          ...(request.principal.startsWith('arn:') ? { 'aws:PrincipalArn': request.principal } : {}),
          ...request.context,
        },
      },
      identityPolicies: request.identityPolicies.map((p) => ({ ...p })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  // "*" (actions with no resource type, e.g. ec2:Describe*) gives one result per resource type.
  const results = result.resultType === 'single' ? [result.result] : result.results;
  const ignored = results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.length > 0) {
    throw new Error(`the simulator ignored context keys ${ignored.join(', ')} for ${request.action}`);
  }
  return result.overallResult as Decision;
}
