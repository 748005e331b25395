// The allow/deny table of docs/SECURITY.md, as data: who asks, for what, on which resource,
// and what AWS decides given the synthesised policies. policy-simulation.test.ts evaluates
// every row with the IAM policy simulator and checks that the document shows exactly this
// table (rendered by renderAccessTable), so the two cannot drift.
import {
  ACCOUNT,
  type Decision,
  DEPLOYED_SUFFIX,
  type PolicyDocument,
  REGION,
  type Request,
} from './policy-simulation.ts';

/** What the rows need from the synthesised stack, resolved to placeholder physical ids. */
export interface World {
  readonly rotatorRoleArn: string;
  readonly rotatorPolicies: readonly { name: string; policy: PolicyDocument }[];
  readonly secretArn: string;
  readonly secretPolicy: PolicyDocument;
  readonly keyArn: string;
  readonly keyPolicy: PolicyDocument;
  readonly functionArn: string;
  readonly functionPolicy: PolicyDocument;
  readonly deploymentRoleArn: string;
  readonly readerRoleArn: string;
}

const allow = (Action: string | string[], Resource: string | string[] = '*') => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource }],
});

/** AWS managed AdministratorAccess. */
const ADMINISTRATOR_ACCESS = [{ name: 'AdministratorAccess', policy: allow('*') }];
/** AWS managed SecretsManagerReadWrite: its Secrets Manager statement (`secretsmanager:*` on "*"). */
const SECRETS_MANAGER_READ_WRITE = [{ name: 'SecretsManagerReadWrite', policy: allow('secretsmanager:*') }];

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ADMIN = role('admin');
/** A role anyone allowed to create roles can create, named like the CDK bootstrap's. */
const PATTERN_ROLE = role(`cdk-attacker-cfn-exec-role-${ACCOUNT}-${REGION}`);
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;

/** The deployed secret force-deleted and recreated by name: same name, another random suffix. */
const lookAlikeArn = (w: World) => w.secretArn.replace(new RegExp(`-${DEPLOYED_SUFFIX}$`), '-XyZ123');
/** The attacker's resource policy on the look-alike: everything to the rotator's role. */
const lookAlikePolicy = (w: World): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: w.rotatorRoleArn }, Action: 'secretsmanager:*', Resource: '*' },
  ],
});

export interface AccessRow {
  /** Who, in the table's words. */
  readonly who: string;
  readonly action: string;
  /** On what, in the table's words. */
  readonly on: string;
  readonly expected: Decision;
  /** Why, in a few words (the statement or the fact that decides). */
  readonly why: string;
  /** One of issue 18's attacks: must be denied, and was allowed before the fences. */
  readonly attack?: boolean;
  readonly request: (w: World) => Request;
}

const rotator = (w: World) => ({ principal: w.rotatorRoleArn, identityPolicies: w.rotatorPolicies });
const onSecret = (w: World) => ({ resource: w.secretArn, resourcePolicy: w.secretPolicy });
const onLookAlike = (w: World) => ({ resource: lookAlikeArn(w), resourcePolicy: lookAlikePolicy(w) });
const as = (principal: string, identityPolicies: Request['identityPolicies']) => () => ({
  principal,
  identityPolicies,
});
const admin = as(ADMIN, SECRETS_MANAGER_READ_WRITE);
const ROTATOR_TAG = { 'aws:TagKeys': ['credential-rotator:user-name'] };

const rotatorSteps = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

export const ACCESS_TABLE: readonly AccessRow[] = [
  ...rotatorSteps.map(
    (action): AccessRow => ({
      who: 'rotator role',
      action,
      on: 'its deployed secret',
      expected: 'Allowed',
      why: 'ReadAndWriteManagedSecrets (by full ARN); the fences except the rotator',
      request: (w) => ({ ...rotator(w), action, ...onSecret(w) }),
    }),
  ),
  {
    who: 'rotator role',
    action: 'secretsmanager:RotateSecret',
    on: 'its deployed secret',
    expected: 'ImplicitlyDenied',
    why: 'not granted: the scheduled run rotates directly, it never starts a rotation',
    request: (w) => ({ ...rotator(w), action: 'secretsmanager:RotateSecret', ...onSecret(w) }),
  },
  {
    who: 'rotator role',
    action: 'lambda:InvokeFunction',
    on: 'the rotator function',
    expected: 'ImplicitlyDenied',
    why: 'not granted: only RotateSecret needed it (Secrets Manager invokes the function)',
    request: (w) => ({
      ...rotator(w),
      action: 'lambda:InvokeFunction',
      resource: w.functionArn,
      resourcePolicy: w.functionPolicy,
    }),
  },
  ...[
    'secretsmanager:PutSecretValue',
    'secretsmanager:UpdateSecretVersionStage',
    'secretsmanager:GetSecretValue',
  ].map(
    (action): AccessRow => ({
      who: 'rotator role',
      action,
      on: 'a look-alike (recreated by name, its policy grants the rotator)',
      expected: 'ExplicitlyDenied',
      why: 'NothingOnSecretsNotDeployed (role policy, NotResource: the deployed ARNs)',
      attack: true,
      request: (w) => ({ ...rotator(w), action, ...onLookAlike(w) }),
    }),
  ),
  {
    who: 'rotator role',
    action: 'secretsmanager:DeleteResourcePolicy',
    on: 'its deployed secret',
    expected: 'ExplicitlyDenied',
    why: 'PolicyChangedOnlyByDeploymentOrRoot',
    request: (w) => ({ ...rotator(w), action: 'secretsmanager:DeleteResourcePolicy', ...onSecret(w) }),
  },
  {
    who: 'reader role (declared)',
    action: 'secretsmanager:GetSecretValue',
    on: 'the deployed secret',
    expected: 'Allowed',
    why: 'its own identity policy; ReadOnlyByRotatorAndDeclaredReaders excepts it',
    request: (w) => ({
      ...as(w.readerRoleArn, [
        { name: 'ReaderPolicy', policy: allow('secretsmanager:GetSecretValue', w.secretArn) },
      ])(),
      action: 'secretsmanager:GetSecretValue',
      ...onSecret(w),
    }),
  },
  ...(
    [
      ['secretsmanager:GetSecretValue', 'ReadOnlyByRotatorAndDeclaredReaders', false],
      ['secretsmanager:DeleteResourcePolicy', 'PolicyChangedOnlyByDeploymentOrRoot', true],
      ['secretsmanager:PutResourcePolicy', 'PolicyChangedOnlyByDeploymentOrRoot', true],
      ['secretsmanager:PutSecretValue', 'ValueWrittenOnlyByRotatorAndDeployment', true],
      ['secretsmanager:UpdateSecretVersionStage', 'ValueWrittenOnlyByRotatorAndDeployment', true],
      ['secretsmanager:DeleteSecret', 'SecretChangedOnlyByDeployment', true],
      ['secretsmanager:UpdateSecret', 'SecretChangedOnlyByDeployment', true],
      ['secretsmanager:CancelRotateSecret', 'SecretChangedOnlyByDeployment', true],
      ['secretsmanager:ReplicateSecretToRegions', 'SecretChangedOnlyByDeployment', true],
    ] as const
  ).map(
    ([action, why, attack]): AccessRow => ({
      who: 'admin with SecretsManagerReadWrite',
      action,
      on: 'the deployed secret',
      expected: 'ExplicitlyDenied',
      why,
      ...(attack ? { attack } : {}),
      request: (w) => ({ ...admin(), action, ...onSecret(w) }),
    }),
  ),
  {
    who: 'admin with SecretsManagerReadWrite',
    action: 'secretsmanager:TagResource',
    on: 'the deployed secret, a `credential-rotator:*` key',
    expected: 'ExplicitlyDenied',
    why: 'RotatorTagsOnlyByDeployment (denied before this review too)',
    request: (w) => ({
      ...admin(),
      action: 'secretsmanager:TagResource',
      ...onSecret(w),
      context: ROTATOR_TAG,
    }),
  },
  {
    who: 'admin with SecretsManagerReadWrite',
    action: 'secretsmanager:TagResource',
    on: 'the deployed secret, another key (`cost-center`)',
    expected: 'Allowed',
    why: "only the rotator's tag keys are fenced",
    request: (w) => ({
      ...admin(),
      action: 'secretsmanager:TagResource',
      ...onSecret(w),
      context: { 'aws:TagKeys': ['cost-center'] },
    }),
  },
  {
    who: 'admin with SecretsManagerReadWrite',
    action: 'secretsmanager:RotateSecret',
    on: 'the deployed secret ("Rotate secret immediately")',
    expected: 'Allowed',
    why: 'not fenced: the rotation itself runs as the rotator role',
    request: (w) => ({ ...admin(), action: 'secretsmanager:RotateSecret', ...onSecret(w) }),
  },
  {
    who: 'admin with AdministratorAccess',
    action: 'secretsmanager:DeleteResourcePolicy',
    on: 'the deployed secret',
    expected: 'ExplicitlyDenied',
    why: 'PolicyChangedOnlyByDeploymentOrRoot',
    attack: true,
    request: (w) => ({
      ...as(ADMIN, ADMINISTRATOR_ACCESS)(),
      action: 'secretsmanager:DeleteResourcePolicy',
      ...onSecret(w),
    }),
  },
  ...['secretsmanager:TagResource', 'secretsmanager:DeleteResourcePolicy'].map(
    (action): AccessRow => ({
      who: 'role named like `cdk-*-cfn-exec-role-<account>-<region>`',
      action,
      on: action.endsWith('TagResource')
        ? 'the deployed secret, a `credential-rotator:*` key'
        : 'the deployed secret',
      expected: 'ExplicitlyDenied',
      why: 'the deployment is one exact ARN, not a pattern',
      attack: true,
      request: (w) => ({
        ...as(PATTERN_ROLE, ADMINISTRATOR_ACCESS)(),
        action,
        ...onSecret(w),
        ...(action.endsWith('TagResource') ? { context: ROTATOR_TAG } : {}),
      }),
    }),
  ),
  {
    who: 'admin calling through their own CloudFormation stack',
    action: 'secretsmanager:PutResourcePolicy',
    on: 'the deployed secret',
    expected: 'ExplicitlyDenied',
    why: 'no `aws:CalledVia` exception: anyone may create a stack',
    attack: true,
    request: (w) => ({
      ...as(ADMIN, ADMINISTRATOR_ACCESS)(),
      action: 'secretsmanager:PutResourcePolicy',
      ...onSecret(w),
      context: { 'aws:CalledVia': ['cloudformation.amazonaws.com'] },
    }),
  },
  ...(
    [
      ['secretsmanager:TagResource', ROTATOR_TAG],
      ['secretsmanager:PutResourcePolicy', undefined],
      ['secretsmanager:PutSecretValue', undefined],
      ['secretsmanager:DeleteSecret', undefined],
    ] as const
  ).map(
    ([action, context]): AccessRow => ({
      who: 'the deployment role (CDK bootstrap cfn-exec role)',
      action,
      on: context ? 'the deployed secret, a `credential-rotator:*` key' : 'the deployed secret',
      expected: 'Allowed',
      why: 'the exact ARN every fence excepts',
      request: (w) => ({
        ...as(w.deploymentRoleArn, ADMINISTRATOR_ACCESS)(),
        action,
        ...onSecret(w),
        ...(context ? { context } : {}),
      }),
    }),
  ),
  {
    who: "the account's root user",
    action: 'secretsmanager:DeleteResourcePolicy',
    on: 'the deployed secret',
    expected: 'Allowed',
    why: 'break glass: PolicyChangedOnlyByDeploymentOrRoot excepts it',
    request: (w) => ({
      ...as(ROOT, ADMINISTRATOR_ACCESS)(),
      action: 'secretsmanager:DeleteResourcePolicy',
      ...onSecret(w),
    }),
  },
  {
    who: "the account's root user",
    action: 'secretsmanager:PutSecretValue',
    on: 'the deployed secret',
    expected: 'ExplicitlyDenied',
    why: 'ValueWrittenOnlyByRotatorAndDeployment (root removes the policy first)',
    request: (w) => ({
      ...as(ROOT, ADMINISTRATOR_ACCESS)(),
      action: 'secretsmanager:PutSecretValue',
      ...onSecret(w),
    }),
  },
  {
    who: 'Secrets Manager, for the deployed secret',
    action: 'lambda:InvokeFunction',
    on: 'the rotator function',
    expected: 'Allowed',
    why: 'SecretsManagerRotation: SourceAccount and SourceArn under the prefix',
    request: (w) => ({
      principal: 'secretsmanager.amazonaws.com',
      identityPolicies: [],
      action: 'lambda:InvokeFunction',
      resource: w.functionArn,
      resourcePolicy: w.functionPolicy,
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': w.secretArn },
    }),
  },
  {
    who: 'Secrets Manager, for a secret outside the prefix',
    action: 'lambda:InvokeFunction',
    on: 'the rotator function',
    expected: 'ImplicitlyDenied',
    why: 'SourceArn must match `<prefix>*`',
    attack: true,
    request: (w) => ({
      principal: 'secretsmanager.amazonaws.com',
      identityPolicies: [],
      action: 'lambda:InvokeFunction',
      resource: w.functionArn,
      resourcePolicy: w.functionPolicy,
      context: {
        'aws:SourceAccount': ACCOUNT,
        'aws:SourceArn': `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:other/app-QwErTy`,
      },
    }),
  },
  {
    who: 'rotator role, through Secrets Manager',
    action: 'kms:Decrypt',
    on: 'the customer managed key',
    expected: 'Allowed',
    why: 'UseKeyViaSecretsmanager (`kms:ViaService`)',
    request: (w) => ({
      ...rotator(w),
      action: 'kms:Decrypt',
      resource: w.keyArn,
      resourcePolicy: w.keyPolicy,
      context: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` },
    }),
  },
  {
    who: 'rotator role, directly',
    action: 'kms:Decrypt',
    on: 'the customer managed key',
    expected: 'ImplicitlyDenied',
    why: 'only via Secrets Manager and SQS',
    request: (w) => ({
      ...rotator(w),
      action: 'kms:Decrypt',
      resource: w.keyArn,
      resourcePolicy: w.keyPolicy,
    }),
  },
  {
    who: 'admin with AdministratorAccess',
    action: 'kms:CreateGrant',
    on: 'the customer managed key, not for an AWS resource',
    expected: 'ExplicitlyDenied',
    why: 'DenyGrantsExceptForAwsResources (key policy)',
    request: (w) => ({
      ...as(ADMIN, ADMINISTRATOR_ACCESS)(),
      action: 'kms:CreateGrant',
      resource: w.keyArn,
      resourcePolicy: w.keyPolicy,
      context: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
    }),
  },
  {
    who: 'rotator role (VPC mode)',
    action: 'ec2:CreateNetworkInterface',
    on: 'a network interface',
    expected: 'Allowed',
    why: 'AttachToVpc (Lambda attaches the function with its role)',
    request: (w) => ({
      ...rotator(w),
      action: 'ec2:CreateNetworkInterface',
      resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-0123456789abcdef0`,
    }),
  },
];

const MARK_START =
  '<!-- access-table:start (generated from test/infra/access-table.ts; the policy simulation checks it) -->';
const MARK_END = '<!-- access-table:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The table as docs/SECURITY.md shows it, between its markers. */
export function renderAccessTable(rows: readonly AccessRow[] = ACCESS_TABLE): string {
  const lines = [
    '| who | action | on | decision | why |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${cell(r.who)}${r.attack ? ' **(attack)**' : ''} | \`${r.action}\` | ${cell(r.on)} | ${r.expected} | ${cell(r.why)} |`,
    ),
  ];
  return `${MARK_START}\n${lines.join('\n')}\n${MARK_END}`;
}

/** The table block in a document, or undefined. */
export function tableIn(document: string): string | undefined {
  const start = document.indexOf(MARK_START);
  const end = document.indexOf(MARK_END);
  return start < 0 || end < start ? undefined : document.slice(start, end + MARK_END.length);
}
