// The Lambda console's shareable test events: the sample events of events/, published as
// examples of an OpenApi3 schema in the `lambda-testevent-schemas` registry. Imported, not
// read from disk, so the build ships them inside the package.
import { RemovalPolicy } from 'aws-cdk-lib';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import dryRun from '../../events/dry-run.json' with { type: 'json' };
import reconcile from '../../events/reconcile.json' with { type: 'json' };
import revokeCredentialDelete from '../../events/revoke-credential-delete.json' with { type: 'json' };
import revokeCurrent from '../../events/revoke-current.json' with { type: 'json' };
import rollbackTarget from '../../events/rollback-target.json' with { type: 'json' };
import rotateTarget from '../../events/rotate-target.json' with { type: 'json' };
import status from '../../events/status.json' with { type: 'json' };

/** Registry in which the Lambda console keeps shareable test events. */
export const TEST_EVENT_REGISTRY = 'lambda-testevent-schemas';

/** The sample events published as console test events, by their console name. */
export const CONSOLE_TEST_EVENTS: Readonly<Record<string, unknown>> = {
  reconcile,
  status,
  'dry-run': dryRun,
  'rotate-target': rotateTarget,
  'rollback-target': rollbackTarget,
  'revoke-current': revokeCurrent,
  'revoke-credential-delete': revokeCredentialDelete,
};

export function createConsoleTestEvents(
  scope: Construct,
  fn: lambda.IFunction,
  createRegistry: boolean,
): void {
  const schema = new CfnSchema(scope, 'ConsoleTestEvents', {
    registryName: TEST_EVENT_REGISTRY,
    schemaName: `_${fn.functionName}-schema`,
    type: 'OpenApi3',
    description: 'Shareable test events of the service-credential-rotator function',
    content: JSON.stringify(testEventsSchema()),
  });
  if (createRegistry) {
    const registry = new CfnRegistry(scope, 'TestEventRegistry', {
      registryName: TEST_EVENT_REGISTRY,
      description: 'Lambda console shareable test events',
    });
    // Shared with every function's console events in this account/region: never
    // delete it with this stack.
    registry.applyRemovalPolicy(RemovalPolicy.RETAIN);
    schema.addResourceDependency(registry);
  }
}

function testEventsSchema() {
  const examples = Object.fromEntries(
    Object.entries(CONSOLE_TEST_EVENTS).map(([name, value]) => [name, { value }]),
  );
  return {
    openapi: '3.0.0',
    info: { version: '1.0.0', title: 'Event' },
    paths: {},
    components: { schemas: { Event: { type: 'object', required: [], properties: {} } }, examples },
  };
}
