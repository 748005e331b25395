// The member template: what every account of the organization gets, one stack instance per
// account and region of the StackSet (central.ts). It is the ServiceCredentialRotator
// construct itself, plus what makes the account part of the org-wide view: its events
// forwarded to the central bus, its metrics shared with the monitoring account (CloudWatch
// cross-account observability), and the credential inventory turned on.
//
// The template must deploy, unchanged, into accounts that did not exist when it was written:
// no literal account id, no Fn::ImportValue, no transform, nothing of the CDK bootstrap. Its
// file assets (the handler bundle, the declaration layer) are read from a bucket in the
// instance's own region, `<assetBucketPrefix>-<region>`, which the organization's admin
// account owns and shares with the organization (assets.ts); scripts/publish-org-assets.ts
// uploads them there under content-addressed keys.
import { extname } from 'node:path';
import {
  App,
  ArnFormat,
  Aws,
  CfnCondition,
  CfnParameter,
  type DockerImageAssetLocation,
  type FileAssetLocation,
  FileAssetPackaging,
  type FileAssetSource,
  Fn,
  type ISynthesisSession,
  Stack,
  StackSynthesizer,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as oam from 'aws-cdk-lib/aws-oam';
import type { Construct } from 'constructs';
import {
  DEFAULT_SECRET_NAME_PREFIX,
  ENV,
  OPT_IN_TAG,
  SERVICE_NAME_TAG,
  USER_NAME_TAG,
} from '../../lambda/contract.ts';
import { KNOWN_SERVICES } from '../../lambda/rotation/services.ts';
import { EVENT_SOURCE } from '../../lambda/telemetry.ts';
import type { ServiceCredentialRotatorProps } from '../rotator/props.ts';
import { ServiceCredentialRotator } from '../rotator/rotator.ts';

/** The member template's parameters; the StackSet (central.ts) gives their values. */
export const MEMBER_PARAMETER = {
  centralEventBusArn: 'CentralEventBusArn',
  observabilitySinkArn: 'ObservabilitySinkArn',
  centralRegion: 'CentralRegion',
} as const;

/** Key prefix of every object the member template reads from the asset buckets. */
export const ASSET_KEY_PREFIX = 'service-credential-rotator/';

/**
 * Role ARN pattern through which service-managed StackSets deploy in a member account
 * (`stacksets-exec-<hash>`): the deployment principal the construct's secret fence admits.
 */
export const STACKSETS_EXECUTION_ROLE = 'stacksets-exec-*';

/** What the function may do to the credentials of a user that carries the opt-in tag. */
const OPTED_IN_CREDENTIAL_ACTIONS = [
  'iam:CreateServiceSpecificCredential',
  'iam:UpdateServiceSpecificCredential',
  'iam:DeleteServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
];

/** One file the member template reads from the asset buckets. */
export interface MemberAsset {
  readonly sourceHash: string;
  /** Where synth staged it (a directory for ZIP_DIRECTORY assets, a file otherwise). */
  readonly path: string;
  readonly packaging: FileAssetPackaging;
  /** Its key in every region's asset bucket. */
  readonly objectKey: string;
}

/** `<prefix>-<region>`, the bucket of the region a template is deployed in. */
export function regionalBucketName(prefix: string, region: string = Aws.REGION): string {
  return Fn.join('-', [prefix, region]);
}

/**
 * A synthesizer for templates deployed by StackSets: file assets are addressed in the asset
 * bucket of the region the stack instance runs in, under content-addressed keys, and listed
 * (`assets`) for the publishing script. No bootstrap parameter, rule or role is added: member
 * accounts are not CDK-bootstrapped.
 */
export class RegionalAssetSynthesizer extends StackSynthesizer {
  readonly #assets: MemberAsset[] = [];
  readonly #outdir: () => string;

  constructor(
    private readonly bucketPrefix: string,
    outdir: () => string,
  ) {
    super();
    this.#outdir = outdir;
  }

  get assets(): readonly MemberAsset[] {
    return [...this.#assets];
  }

  addFileAsset(asset: FileAssetSource): FileAssetLocation {
    if (!asset.fileName) {
      throw new Error(
        `asset ${asset.sourceHash} has no file: only file and directory assets can be published per region`,
      );
    }
    const extension = asset.packaging === FileAssetPackaging.FILE ? extname(asset.fileName) : '.zip';
    const objectKey = `${ASSET_KEY_PREFIX}${asset.sourceHash}${extension}`;
    if (!this.#assets.some((a) => a.objectKey === objectKey)) {
      this.#assets.push({
        sourceHash: asset.sourceHash,
        path: `${this.#outdir()}/${asset.fileName}`,
        packaging: asset.packaging ?? FileAssetPackaging.FILE,
        objectKey,
      });
    }
    const bucketName = regionalBucketName(this.bucketPrefix);
    return {
      bucketName,
      objectKey,
      httpUrl: Fn.join('', ['https://', bucketName, '.s3.', Aws.REGION, '.', Aws.URL_SUFFIX, '/', objectKey]),
      s3ObjectUrl: Fn.join('', ['s3://', bucketName, '/', objectKey]),
    };
  }

  addDockerImageAsset(_asset: unknown): DockerImageAssetLocation {
    throw new Error('the member template takes no container image assets');
  }

  synthesize(session: ISynthesisSession): void {
    this.synthesizeTemplate(session);
    this.emitArtifact(session);
  }
}

export interface MemberStackProps extends StackProps {
  /**
   * The rotator every account gets. Its targets are the same in every account (users an
   * account baseline creates everywhere); `deploymentPrincipalArns` defaults to the StackSets
   * execution role, `bulkCredentialListing` is on (the inventory lists all users anyway).
   */
  readonly rotator: ServiceCredentialRotatorProps;
}

/** The stack every member account and region gets. Env-agnostic on purpose. */
export class MemberStack extends Stack {
  public readonly rotator: ServiceCredentialRotator;

  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, props);
    const busArn = new CfnParameter(this, MEMBER_PARAMETER.centralEventBusArn, {
      type: 'String',
      description: "ARN of the organization bus that receives every account's rotator events",
      allowedPattern: '^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/[A-Za-z0-9._/-]+$',
    });
    const sinkArn = new CfnParameter(this, MEMBER_PARAMETER.observabilitySinkArn, {
      type: 'String',
      description: 'ARN of the CloudWatch cross-account observability sink of the monitoring account',
      allowedPattern: '^arn:aws[a-z-]*:oam:[a-z0-9-]+:\\d{12}:sink/[A-Za-z0-9-]+$',
    });
    const centralRegion = new CfnParameter(this, MEMBER_PARAMETER.centralRegion, {
      type: 'String',
      description: "Region of the sink: only this region's stack instance links its metrics",
      allowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
    });

    // The construct id is the same as in the single-account stack (infra/stack.ts).
    this.rotator = new ServiceCredentialRotator(this, 'Rotator', {
      bulkCredentialListing: true,
      deploymentPrincipalArns: [
        this.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: STACKSETS_EXECUTION_ROLE,
        }),
      ],
      ...props.rotator,
    });
    // Env-agnostic, the permission's SourceAccount is `Ref AWS::AccountId` (each instance's own
    // account), which the Control Tower rule cannot evaluate: it wants a literal.
    Validations.of(this.rotator.function.permissionsNode.findChild('SecretsManagerRotation')).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
      reason:
        'Secrets Manager may invoke the function only with SourceAccount = AWS::AccountId, the account of the ' +
        'stack instance, resolved by CloudFormation; the rule cannot evaluate an intrinsic function.',
    });
    // The inventory (lambda/unmanaged.ts) reads what bulk listing already may.
    (this.rotator.function as lambda.Function).addEnvironment(ENV.credentialInventory, 'true');
    this.allowOptIn(props.rotator.secretNamePrefix ?? DEFAULT_SECRET_NAME_PREFIX);

    this.forwardEvents(busArn.valueAsString);
    this.linkMetrics(sinkArn.valueAsString, centralRegion.valueAsString);
  }

  /**
   * Users opt in by tag (lambda/opt-in.ts): the function reads users and their tags, creates the
   * secret of an opted-in pair, and writes credentials only of users that carry the tag, for
   * the known services only. The tag itself is fenced by the SCP in opt-in-scp.json: the
   * function can never set it (no iam:TagUser here), and nobody in the account but the opt-in
   * administrator role can (docs/SECURITY.md).
   */
  private allowOptIn(prefix: string): void {
    const fn = this.rotator.function as lambda.Function;
    fn.addEnvironment(ENV.userOptInTag, OPT_IN_TAG);
    const role = fn.role as iam.IRole;
    const users = this.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' });
    const secrets = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const statements = [
      // ListUsers is granted on "*": whether IAM evaluates it against user/* is unconfirmed.
      new iam.PolicyStatement({ sid: 'ListUsersForOptIn', actions: ['iam:ListUsers'], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'ReadUserTagsForOptIn',
        actions: ['iam:ListUserTags'],
        resources: [users],
      }),
      new iam.PolicyStatement({
        sid: 'ManageCredentialsOfOptedInUsers',
        actions: OPTED_IN_CREDENTIAL_ACTIONS,
        resources: [users],
        conditions: {
          Null: { [`aws:ResourceTag/${OPT_IN_TAG}`]: 'false' },
          StringEquals: { 'iam:ServiceSpecificCredentialServiceName': Object.keys(KNOWN_SERVICES) },
        },
      }),
      new iam.PolicyStatement({
        sid: 'CreateSecretsOfOptedInUsers',
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        resources: [secrets],
        conditions: {
          Null: {
            [`aws:RequestTag/${USER_NAME_TAG}`]: 'false',
            [`aws:RequestTag/${SERVICE_NAME_TAG}`]: 'false',
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'ReadAndWriteSecretsOfOptedInUsers',
        actions: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:DescribeSecret',
          'secretsmanager:UpdateSecretVersionStage',
          'secretsmanager:ListSecretVersionIds',
          // No RotateSecret: the function rotates directly and never starts a rotation.
        ],
        resources: [secrets],
        conditions: { Null: { [`aws:ResourceTag/${USER_NAME_TAG}`]: 'false' } },
      }),
    ];
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
      reason:
        'Opted-in users are not known at deployment: their secrets are named <prefix><user>/<service>, created by ' +
        "the function with the rotator's two tags (required by condition), and written only while they carry them. " +
        'Which (user, service) pairs are targets is decided by the SCP-fenced user tag, and a secret whose tags ' +
        'disagree with it is never written.',
    });
  }

  /**
   * Every rotator event (transitions, failures, manual commands, inventory) to the central
   * bus. The bus admits the organization (aws:PrincipalOrgID), not a list of accounts, and a
   * rule whose target is a bus in another account that admits it through the organization
   * needs a role of its own (EventBridge's PutTargets: RoleArn).
   */
  private forwardEvents(busArn: string): void {
    const centralBus = events.EventBus.fromEventBusArn(this, 'CentralEventBus', busArn);
    const role = new iam.Role(this, 'ForwardEventsRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'service-credential-rotator: forwards the rotator events to the organization bus',
      inlinePolicies: {
        PutEventsOnCentralBus: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [busArn] })],
        }),
      },
    });
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The role's one statement names the organization bus only; inline, it cannot be attached " +
        'to another principal.',
    });
    new events.Rule(this, 'ForwardEvents', {
      description: 'service-credential-rotator: every rotator event to the organization bus',
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new eventTargets.EventBus(centralBus, { role })],
    });
  }

  /** The account's CloudWatch metrics, shared with the monitoring account's sink (central region only). */
  private linkMetrics(sinkArn: string, centralRegion: string): void {
    const inCentralRegion = new CfnCondition(this, 'InCentralRegion', {
      expression: Fn.conditionEquals(Aws.REGION, centralRegion),
    });
    const link = new oam.CfnLink(this, 'ObservabilityLink', {
      sinkIdentifier: sinkArn,
      resourceTypes: ['AWS::CloudWatch::Metric'],
      labelTemplate: '$AccountName',
    });
    link.cfnOptions.condition = inCentralRegion;
  }
}

/**
 * Synthesizes the member template in an app of its own (offline, no bootstrap): the template
 * and the assets it reads. `validate` runs the given validation plugins on it.
 */
export function synthesizeMemberTemplate(options: {
  readonly rotator: ServiceCredentialRotatorProps;
  readonly assetBucketPrefix: string;
  readonly outdir?: string | undefined;
  readonly context?: Record<string, unknown> | undefined;
  readonly plugins?: (app: App) => Parameters<ReturnType<typeof Validations.of>['addPlugins']>;
  /** Adds to the member stack before synth (tests: a resource the packs must flag). */
  readonly extend?: ((stack: MemberStack) => void) | undefined;
}): { template: Record<string, unknown>; assets: readonly MemberAsset[]; stack: MemberStack; app: App } {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: options.context ?? {},
  });
  const synthesizer = new RegionalAssetSynthesizer(options.assetBucketPrefix, () => app.outdir);
  const stack = new MemberStack(app, 'CredentialRotatorMember', {
    synthesizer,
    description:
      'service-credential-rotator (organization member): rotates IAM service-specific credentials into Secrets Manager',
    rotator: options.rotator,
  });
  options.extend?.(stack);
  if (options.plugins) Validations.of(app).addPlugins(...options.plugins(app));
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>;
  return { template, assets: synthesizer.assets, stack, app };
}
