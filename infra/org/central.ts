// The organization's side of the rollout, deployed once in the management account or a
// delegated administrator account (which is also the monitoring account here):
// - one CloudFormation StackSet, service-managed, that deploys the member template (member.ts)
//   to every account of the chosen OUs and regions, and to accounts that join them later;
// - the bus every member forwards its rotator events to, open to the organization
//   (aws:PrincipalOrgID) rather than to a list of accounts;
// - the CloudWatch cross-account observability sink the members link their metrics to, and
//   one alarm and one dashboard over Metrics Insights queries, which cover every linked account,
//   those linked later included, without a redeploy.
// The member template and its assets are published by scripts/publish-org-assets.ts before
// this stack is deployed (docs/OPERATIONS.md); this stack only names their URL.
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as oam from 'aws-cdk-lib/aws-oam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { EVENT_SOURCE, METRIC, METRICS_NAMESPACE } from '../../lambda/telemetry.ts';
import { ASSET_KEY_PREFIX, MEMBER_PARAMETER } from './member.ts';

export type CallAs = 'SELF' | 'DELEGATED_ADMIN';

export interface OrganizationRolloutProps {
  /** The organization's id, `o-` and 10 to 32 characters: every org condition names it. */
  readonly organizationId: string;
  /** OUs (or the root, `r-...`) whose accounts get the rotator, now and when they join later. */
  readonly organizationalUnitIds: readonly string[];
  /** Regions every account gets the rotator in. */
  readonly regions: readonly string[];
  /**
   * Prefix of the asset buckets, one per region, `<prefix>-<region>` (assets.ts creates them).
   * No account id in it: the member template carries it.
   */
  readonly assetBucketPrefix: string;
  /** The member template's key in the asset bucket of this stack's region (publish-org-assets.ts prints it). */
  readonly memberTemplateKey: string;
  /**
   * `DELEGATED_ADMIN` when this stack is deployed in a delegated administrator account of
   * CloudFormation StackSets, `SELF` in the management account.
   * @default 'SELF'
   */
  readonly callAs?: CallAs | undefined;
  /**
   * What an account that leaves the OUs (or the organization) keeps. `false`: StackSets
   * deletes its stack instance, so the function and its schedule go; the secrets, the log group
   * and a customer managed key are retained by their own policies, and the credentials stay
   * valid, no longer rotated. `true`: the stack instance stays (and keeps rotating), outside the
   * StackSet's management.
   * @default false
   */
  readonly retainStacksOnAccountRemoval?: boolean | undefined;
  /** @default 'service-credential-rotator' */
  readonly stackSetName?: string | undefined;
  /** @default 'credential-rotator-org' */
  readonly eventBusName?: string | undefined;
  /** Subscribed to the org alarm's topic. @default none */
  readonly alarmEmail?: string | undefined;
}

export const DEFAULT_STACK_SET_NAME = 'service-credential-rotator';
export const DEFAULT_ORG_BUS_NAME = 'credential-rotator-org';

/** The Metrics Insights query of the one org alarm: the worst account's failed targets. */
export const ORG_FAILED_TARGETS_QUERY = `SELECT MAX(${METRIC.failedTargets}) FROM SCHEMA("${METRICS_NAMESPACE}", service)`;

const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const OU_ID = /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const BUCKET_PREFIX = /^[a-z0-9][a-z0-9.-]{1,40}[a-z0-9]$/;

/** Checks the props; throws naming the first bad one and the expected form. */
export function checkedRolloutProps(props: OrganizationRolloutProps): OrganizationRolloutProps {
  if (!ORG_ID.test(props.organizationId)) {
    throw new Error(
      `organizationId must look like o-a1b2c3d4e5 (o- and 10-32 lowercase letters or digits), got ${JSON.stringify(props.organizationId)}`,
    );
  }
  if (props.organizationalUnitIds.length === 0)
    throw new Error('organizationalUnitIds must name at least one OU (ou-...) or the root (r-...), got []');
  for (const ou of props.organizationalUnitIds) {
    if (!OU_ID.test(ou))
      throw new Error(
        `organizationalUnitIds: ${JSON.stringify(ou)} is neither an OU id (ou-abcd-12345678) nor a root id (r-abcd)`,
      );
  }
  if (props.regions.length === 0) throw new Error('regions must name at least one region, got []');
  for (const region of props.regions) {
    if (!REGION.test(region))
      throw new Error(`regions: ${JSON.stringify(region)} is not a region name such as eu-west-1`);
  }
  if (!BUCKET_PREFIX.test(props.assetBucketPrefix) || /\d{12}/.test(props.assetBucketPrefix)) {
    throw new Error(
      `assetBucketPrefix must be 3-42 lowercase letters, digits, dots or hyphens, without an account id (the member template carries it), got ${JSON.stringify(props.assetBucketPrefix)}`,
    );
  }
  if (props.callAs !== undefined && props.callAs !== 'SELF' && props.callAs !== 'DELEGATED_ADMIN') {
    throw new Error(`callAs must be SELF or DELEGATED_ADMIN, got ${JSON.stringify(props.callAs)}`);
  }
  return props;
}

export class OrganizationRolloutStack extends Stack {
  public readonly stackSet: cloudformation.CfnStackSet;
  public readonly eventBus: events.EventBus;
  public readonly sink: oam.CfnSink;
  public readonly alarm: cloudwatch.Alarm;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, rolloutProps: OrganizationRolloutProps, props: StackProps = {}) {
    super(scope, id, props);
    const p = checkedRolloutProps(rolloutProps);
    const inOrganization = { StringEquals: { 'aws:PrincipalOrgID': p.organizationId } };

    this.eventBus = new events.EventBus(this, 'OrgEventBus', {
      eventBusName: p.eventBusName ?? DEFAULT_ORG_BUS_NAME,
    });
    this.eventBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationMembersPutEvents',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.eventBus.eventBusArn],
        conditions: inOrganization,
      }),
    );
    // A year of every account's events, to replay into a new consumer.
    this.eventBus.archive('OrgEventArchive', {
      description: 'service-credential-rotator events of every member account',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(365),
    });

    this.sink = new oam.CfnSink(this, 'ObservabilitySink', {
      name: 'service-credential-rotator',
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OrganizationMembersLinkMetrics',
            Effect: 'Allow',
            Principal: '*',
            Action: ['oam:CreateLink', 'oam:UpdateLink'],
            Resource: '*',
            Condition: {
              ...inOrganization,
              'ForAllValues:StringEquals': { 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] },
            },
          },
        ],
      },
    });

    const templateUrl = Fn.join('', [
      'https://',
      Fn.join('-', [p.assetBucketPrefix, Aws.REGION]),
      '.s3.',
      Aws.REGION,
      '.',
      Aws.URL_SUFFIX,
      '/',
      p.memberTemplateKey,
    ]);
    if (!p.memberTemplateKey.startsWith(ASSET_KEY_PREFIX)) {
      throw new Error(
        `memberTemplateKey must start with ${ASSET_KEY_PREFIX} (publish-org-assets.ts prints it), got ${JSON.stringify(p.memberTemplateKey)}`,
      );
    }
    this.stackSet = new cloudformation.CfnStackSet(this, 'MemberStackSet', {
      stackSetName: p.stackSetName ?? DEFAULT_STACK_SET_NAME,
      description: 'service-credential-rotator in every account of the chosen OUs and regions',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: {
        enabled: true,
        retainStacksOnAccountRemoval: p.retainStacksOnAccountRemoval ?? false,
      },
      callAs: p.callAs ?? 'SELF',
      // The construct creates roles and a managed policy (unnamed).
      capabilities: ['CAPABILITY_IAM'],
      templateUrl,
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      parameters: [
        { parameterKey: MEMBER_PARAMETER.centralEventBusArn, parameterValue: this.eventBus.eventBusArn },
        { parameterKey: MEMBER_PARAMETER.observabilitySinkArn, parameterValue: this.sink.attrArn },
        { parameterKey: MEMBER_PARAMETER.centralRegion, parameterValue: Aws.REGION },
      ],
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...p.organizationalUnitIds] },
          regions: [...p.regions],
        },
      ],
    });

    const topic = this.alarmTopic();
    if (p.alarmEmail) topic.addSubscription(new snsSubscriptions.EmailSubscription(p.alarmEmail));
    // Metrics Insights queries the monitoring account's own metrics and every linked account's:
    // an account linked tomorrow is in tomorrow's evaluation.
    this.alarm = new cloudwatch.Alarm(this, 'OrgFailedTargets', {
      alarmDescription:
        'service-credential-rotator: a target failed in some account of the organization (open the org dashboard; ' +
        'npm run fleet -- --org shows which)',
      metric: new cloudwatch.MathExpression({
        expression: ORG_FAILED_TARGETS_QUERY,
        period: Duration.hours(1),
        label: 'worst account: failed targets',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    this.alarm.addOkAction(new cloudwatchActions.SnsAction(topic));

    this.dashboard = new cloudwatch.Dashboard(this, 'OrgDashboard', {
      dashboardName: 'service-credential-rotator-org',
      defaultInterval: Duration.days(14),
    });
    const byAccount = (metric: string, stat: 'MAX' | 'SUM') =>
      new cloudwatch.MathExpression({
        expression: `SELECT ${stat}(${metric}) FROM SCHEMA("${METRICS_NAMESPACE}", service) GROUP BY AWS.AccountId`,
        period: Duration.hours(1),
      });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmWidget({
        title: 'Org: failed targets (worst account)',
        alarm: this.alarm,
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Failed targets by account',
        left: [byAccount(METRIC.failedTargets, 'MAX')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Unmanaged credentials by account',
        left: [byAccount(METRIC.unmanagedCredentials, 'MAX')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rotations by account',
        left: [byAccount(METRIC.rotations, 'SUM')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest current credential (days) by account',
        left: [byAccount(METRIC.oldestCredentialAgeDays, 'MAX')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Targets by account',
        left: [byAccount(METRIC.targets, 'MAX')],
        width: 12,
      }),
    );

    new CfnOutput(this, 'StackSetName', { value: p.stackSetName ?? DEFAULT_STACK_SET_NAME });
    new CfnOutput(this, 'OrgEventBusArn', { value: this.eventBus.eventBusArn });
    new CfnOutput(this, 'ObservabilitySinkArn', { value: this.sink.attrArn });
    new CfnOutput(this, 'OrgAlarmTopicArn', { value: topic.topicArn });
  }

  private alarmTopic(): sns.Topic {
    // CloudWatch publishes to an encrypted topic only if the key lets it (as in monitoring.ts).
    const key = new kms.Key(this, 'OrgAlarmTopicKey', {
      description: 'Encrypts the service-credential-rotator organization alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    return new sns.Topic(this, 'OrgAlarmTopic', {
      displayName: 'service-credential-rotator organization alarm',
      masterKey: key,
      enforceSSL: true,
    });
  }
}
