// The deployable unit: one rotator per account and region. Kept thin on purpose; the
// construct holds the design, the stack only resolves what cdk.json names (key, network),
// names things and exposes outputs. It uses the construct through the package's entry, as
// any other CDK app would.
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { ServiceCredentialRotator, type ServiceCredentialRotatorProps } from 'service-credential-rotator';

export interface RotatorStackProps extends StackProps {
  /** Everything the rotator needs; see ServiceCredentialRotatorProps. */
  readonly rotator: ServiceCredentialRotatorProps;
  /** `true`: a new customer managed key; a key ARN: that existing key. @default none */
  readonly kmsKey?: true | string | undefined;
  /** Place the function in this VPC, by ids (no lookup: synth stays offline). @default none */
  readonly network?: RotatorNetwork | undefined;
}

/** Interface endpoints the stack can create for the function's subnets, by short name. */
export const INTERFACE_ENDPOINT_SERVICES = [
  'secretsmanager',
  'events',
  'cloudformation',
  'cassandra',
  'git-codecommit',
  'bedrock',
  'logs',
] as const;
export type InterfaceEndpointService = (typeof INTERFACE_ENDPOINT_SERVICES)[number];

export interface RotatorNetwork {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /**
   * Interface endpoints to create in `subnetIds`, with private DNS, so that these services
   * need no NAT path: `com.amazonaws.<region>.<name>`. Each endpoint gets `securityGroupIds`,
   * which must then allow inbound 443 (and 9142 for `cassandra`) from themselves.
   * @default none
   */
  readonly interfaceEndpoints?: readonly InterfaceEndpointService[] | undefined;
}

export class RotatorStack extends Stack {
  public readonly rotator: ServiceCredentialRotator;

  constructor(scope: Construct, id: string, props: RotatorStackProps) {
    super(scope, id, props);
    // The construct id is a contract: renaming it replaces every resource, secrets included.
    this.rotator = new ServiceCredentialRotator(this, 'Rotator', {
      ...props.rotator,
      ...(props.kmsKey !== undefined ? { encryptionKey: this.key(props.kmsKey) } : {}),
      ...(props.network ? this.placement(props.network) : {}),
    });

    new CfnOutput(this, 'FunctionName', {
      value: this.rotator.function.functionName,
      description: 'Invoke it with {"action":"reconcile"}, {"action":"status"}, {"action":"rotate",...}',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.rotator.alarmTopic.topicArn });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.rotator.failureQueue.queueUrl });
    if (this.rotator.dashboard) {
      new CfnOutput(this, 'DashboardName', { value: this.rotator.dashboard.dashboardName });
    }
    new CfnOutput(this, 'OperatorPolicyArn', {
      value: this.rotator.operatorPolicy.managedPolicyArn,
      description: 'Attach to the named people who may run manual commands (invoke only)',
    });
    for (const t of this.rotator.targets) {
      new CfnOutput(this, `SecretArn-${t.userName}-${t.serviceName}`, {
        value: t.secret.secretArn,
        description: `Secret of ${t.userName} for ${t.serviceName} (${t.secretName})`,
      });
    }
  }

  private key(kmsKey: true | string): kms.IKey {
    if (kmsKey !== true) return kms.Key.fromKeyArn(this, 'ImportedKey', kmsKey);
    return new kms.Key(this, 'RotatorKey', {
      description: 'service-credential-rotator: secrets, logs, queues and environment of the rotator',
      enableKeyRotation: true,
      // The secrets are retained, so the key that decrypts them is too.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }

  private placement(network: RotatorNetwork) {
    const subnets = network.subnetIds.map((subnetId, i) =>
      ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId),
    );
    const securityGroups = network.securityGroupIds.map((sg, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sg),
    );
    for (const service of network.interfaceEndpoints ?? []) {
      // The L1 resource: the L2 wants each subnet's availability zone, which an id alone
      // does not give without a lookup (synth stays offline).
      new ec2.CfnVPCEndpoint(this, `Endpoint-${service}`, {
        vpcId: network.vpcId,
        serviceName: `com.amazonaws.${this.region}.${service}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: [...network.subnetIds],
        securityGroupIds: [...network.securityGroupIds],
      });
    }
    return {
      vpc: ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: network.vpcId,
        // Reading this.availabilityZones would look the zones up (an AWS call at synth). They
        // are not used (the subnets are given by id, Lambda needs their ids alone), so the
        // attribute gets CloudFormation's Fn::GetAZs, a token never resolved at synth.
        availabilityZones: Fn.getAzs(),
      }),
      vpcSubnets: { subnets },
      securityGroups,
    };
  }
}
