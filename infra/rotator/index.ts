// The package's public API: the construct, its props and the names it shares with the
// function. Everything else under infra/rotator/ is internal.
export {
  DEFAULT_POLICY,
  DEFAULT_SECRET_NAME_PREFIX,
  defaultSecretName,
  SERVICE_NAME_TAG,
  USER_NAME_TAG,
} from '../../lambda/contract.ts';
export {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  METRIC,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
} from '../../lambda/telemetry.ts';
export {
  DEFAULT_STALE_CREDENTIAL_MARGIN_DAYS,
  type ManagedTarget,
  type RotationTarget,
  type RotatorAlarms,
  type ServiceCredentialRotatorProps,
} from './props.ts';
export { ServiceCredentialRotator } from './rotator.ts';
export { CONSOLE_TEST_EVENTS, TEST_EVENT_REGISTRY } from './test-events.ts';
// The organization rollout (infra/org/): one StackSet, member and central stacks.
export * from '../org/index.ts';
