// Public entry point of the local AWS emulator (IAM service-specific credentials + Secrets Manager).
export { AwsEmulator, isWriteCall, lostResponseError } from './emulator.ts';
export { findOperation, isWriteOperation, OPERATIONS } from './catalogue.ts';
export type { Access, Operation } from './catalogue.ts';
export type {
  AwsEmulatorOptions,
  CallRecord,
  HandledResponse,
  InProcessRequestHandler,
  WireRequest,
} from './emulator.ts';
export { VirtualClock } from './clock.ts';
export { AwsApiError } from './errors.ts';
export { Faults } from './faults.ts';
export type { FaultKind, FaultSpec, RateLimits, Service } from './faults.ts';
export { IamModel, SUPPORTED_SERVICES, CREDENTIALS_PER_USER_PER_SERVICE } from './iam.ts';
export type { CredentialView, IamCredentialStatus, IamUser } from './iam.ts';
export {
  SecretsModel,
  AWSCURRENT,
  AWSPREVIOUS,
  AWSPENDING,
  NO_ROTATION_FUNCTION,
  ROTATION_IN_PROGRESS,
} from './secrets.ts';
export { DESCRIBE_STACK_RESOURCES_LIMIT, SECRET_RESOURCE_TYPE, StacksModel } from './stacks.ts';
export type { StackResource } from './stacks.ts';
export type {
  ManualUpdateRotation,
  RotationConfig,
  RotationRules,
  StoredSecret,
  StoredVersion,
  Tag,
} from './secrets.ts';
export {
  httpInvoker,
  ROTATION_STEP_OPERATION,
  ROTATION_STEPS,
  Rotations,
  THROTTLED_STEP,
} from './rotations.ts';
export type {
  RotationEvent,
  RotationInvoker,
  RotationRecord,
  RotationStep,
  StepRecord,
  ThrottledStepRetry,
} from './rotations.ts';
