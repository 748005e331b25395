import { App, Duration, Stack } from 'aws-cdk-lib';
import { Dashboard, GraphWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ServiceCredentialRotator } from 'service-credential-rotator';

const app = new App();
const stack = new Stack(app, 'Platform', { env: { account: '111111111111', region: 'eu-west-1' } });
const ordersTaskRole = new Role(stack, 'OrdersTaskRole', {
  assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
});

// Keep the id ('Rotator') once deployed: the secrets' logical ids derive from it.
const rotator = new ServiceCredentialRotator(stack, 'Rotator', {
  targets: [{ userName: 'orders-keyspaces', serviceName: 'cassandra.amazonaws.com' }],
  rotateAfterDays: 30,
  overlapDays: 1,
  alarmEmail: 'platform-oncall@example.com',
});
rotator.addTarget({ userName: 'ci-git', serviceName: 'codecommit.amazonaws.com' }); // secret + permissions
rotator.grantRead(ordersTaskRole, { userName: 'orders-keyspaces', serviceName: 'cassandra.amazonaws.com' });
new Dashboard(stack, 'Credentials').addWidgets(
  new GraphWidget({ left: [rotator.metricRotations({ period: Duration.days(1) })] }),
);
rotator.alarms.staleCredential; // every alarm by name: functionErrors, failedTargets, ...
