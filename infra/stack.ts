// The deployable unit: one rotator per account and region. Kept thin on purpose; the
// construct holds the design, the stack only names things and exposes outputs. It uses the
// construct through the package's entry, as any other CDK app would.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ServiceCredentialRotator, type ServiceCredentialRotatorProps } from 'service-credential-rotator';

export interface RotatorStackProps extends StackProps {
  /** Everything the rotator needs; see ServiceCredentialRotatorProps. */
  readonly rotator: ServiceCredentialRotatorProps;
}

export class RotatorStack extends Stack {
  public readonly rotator: ServiceCredentialRotator;

  constructor(scope: Construct, id: string, props: RotatorStackProps) {
    super(scope, id, props);
    // The construct id is a contract: renaming it replaces every resource, secrets included.
    this.rotator = new ServiceCredentialRotator(this, 'Rotator', props.rotator);

    new CfnOutput(this, 'FunctionName', {
      value: this.rotator.function.functionName,
      description: 'Invoke it with {"action":"reconcile"}, {"action":"status"}, {"action":"rotate",...}',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.rotator.alarmTopic.topicArn });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.rotator.failureQueue.queueUrl });
    if (this.rotator.dashboard) {
      new CfnOutput(this, 'DashboardName', { value: this.rotator.dashboard.dashboardName });
    }
  }
}
