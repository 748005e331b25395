// Translates AWS SDK errors into the product's typed errors (../errors.ts), in this one place,
// so the executor never looks at SDK error names. Messages are built from the AWS error code,
// the AWS error message and ids only, never from request parameters: PutSecretValue's
// SecretString must not reach an error, and neither may a response body that failed to parse
// (GetSecretValue, Create and Reset responses carry secrets).
import {
  AccessDeniedError,
  AwsCallError,
  CredentialNotFoundError,
  CredentialQuotaError,
  NoSuchUserError,
  RotationInProgressError,
  SecretDeletedError,
  SecretNotFoundError,
  ThrottledError,
  UnsupportedServiceError,
} from '../errors.ts';

type AwsErrorClass = new (
  operation: string,
  code: string,
  message: string,
  options?: { cause?: unknown; httpStatus?: number | undefined; retryable?: boolean },
) => AwsCallError;

/** IAM's LimitExceeded is the two-credential quota; Secrets Manager's is something else. */
const IAM_OPERATIONS: ReadonlySet<string> = new Set([
  'ListServiceSpecificCredentials',
  'CreateServiceSpecificCredential',
  'UpdateServiceSpecificCredential',
  'DeleteServiceSpecificCredential',
  'ResetServiceSpecificCredential',
]);

// The SDK names modelled errors `<Code>Exception` and keeps the wire code for the rest; the
// wire codes are listed too so the table also holds for errors built from raw codes
// (BatchGetSecretValue's per-secret Errors entries).
const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);
const ACCESS_DENIED_CODES: ReadonlySet<string> = new Set(['AccessDenied', 'AccessDeniedException']);

const REDACTED = '[redacted]';
const UNPARSEABLE = 'the response could not be parsed (body withheld: it may carry a secret)';

export interface TranslateOptions {
  /** Ids that say what the call was about (user, credential id, secret), appended to the message. */
  readonly subject?: string | undefined;
  /** Values that must never appear in the message or the kept cause (e.g. a SecretString). */
  readonly sensitive?: readonly (string | undefined)[] | undefined;
}

/** A failed AWS call, reduced to what the translation table needs. */
export interface AwsErrorFacts {
  readonly code: string;
  readonly message: string;
  readonly httpStatus?: number | undefined;
  readonly cause?: unknown;
}

/**
 * Turns whatever an SDK call threw into an {@link AwsCallError} subclass. Errors that are
 * already translated pass through unchanged.
 */
export function translateAwsError(
  operation: string,
  error: unknown,
  options: TranslateOptions = {},
): AwsCallError {
  if (error instanceof AwsCallError) return error;
  return classifyAwsError(operation, describe(error, options.sensitive ?? []), options.subject);
}

/** The translation table, for errors that do not come as thrown SDK errors (batch entries). */
export function classifyAwsError(operation: string, facts: AwsErrorFacts, subject?: string): AwsCallError {
  const { code, httpStatus, cause } = facts;
  const message = subject ? `${facts.message} (${subject})` : facts.message;
  const make = (ErrorClass: AwsErrorClass, retryable = false) =>
    new ErrorClass(operation, code, message, { cause, httpStatus, retryable });

  switch (code) {
    case 'NoSuchEntityException':
    case 'NoSuchEntity':
      // IAM answers an unknown user, an unknown service and an unknown id with the same code.
      if (/the user with name/i.test(facts.message)) return make(NoSuchUserError);
      if (/no such service/i.test(facts.message)) return make(UnsupportedServiceError);
      return make(CredentialNotFoundError);
    case 'ServiceNotSupportedException':
    case 'NotSupportedService':
      return make(UnsupportedServiceError);
    case 'LimitExceededException':
    case 'LimitExceeded':
      return IAM_OPERATIONS.has(operation) ? make(CredentialQuotaError) : make(AwsCallError);
    case 'ResourceNotFoundException':
      return make(SecretNotFoundError);
    case 'InvalidRequestException':
      if (/marked for deletion/i.test(facts.message)) return make(SecretDeletedError);
      if (/previous rotation isn't complete/i.test(facts.message)) return make(RotationInProgressError);
      return make(AwsCallError);
    default:
      if (ACCESS_DENIED_CODES.has(code)) return make(AccessDeniedError);
      if (THROTTLING_CODES.has(code)) return make(ThrottledError, true);
      return make(AwsCallError);
  }
}

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $responseBodyText?: unknown;
}

function describe(error: unknown, sensitive: readonly (string | undefined)[]): AwsErrorFacts {
  if (typeof error !== 'object' || error === null) {
    // A thrown non-object could be anything, including a value: do not echo it.
    return {
      code: 'UnknownError',
      message: `a non-Error value (${typeof error}) was thrown`,
      cause: undefined,
    };
  }
  const e = error as ErrorLike;
  // SDK errors carry the AWS code as `name`; Node's network errors say `Error` and put it in `code`.
  const code =
    typeof e.name === 'string' && e.name !== '' && e.name !== 'Error'
      ? e.name
      : typeof e.code === 'string' && e.code !== ''
        ? e.code
        : 'UnknownError';
  const status = e.$metadata?.httpStatusCode;
  const httpStatus = typeof status === 'number' ? status : undefined;
  const original = typeof e.message === 'string' ? e.message : '';

  // A body that failed to parse may be quoted in the message (V8's JSON errors quote it).
  if ('$responseBodyText' in e || original.includes('Deserialization error')) {
    return { code, message: UNPARSEABLE, httpStatus, cause: redactedCopy(code, UNPARSEABLE, httpStatus) };
  }
  const scrubbed = scrub(original, sensitive);
  const message = scrubbed === '' ? '(no message)' : scrubbed;
  const cause = scrubbed === original ? error : redactedCopy(code, message, httpStatus);
  return { code, message, httpStatus, cause };
}

function scrub(message: string, sensitive: readonly (string | undefined)[]): string {
  let result = message;
  for (const value of sensitive) {
    if (value) result = result.split(value).join(REDACTED);
  }
  return result;
}

/** Stands in for an SDK error whose message could not be kept (its properties may hold the secret too). */
function redactedCopy(code: string, message: string, httpStatus: number | undefined): Error {
  const copy = new Error(message);
  copy.name = code;
  return Object.assign(copy, { $metadata: { httpStatusCode: httpStatus } });
}

/** Secrets Manager's answer for a secret that exists but has no version with that label. */
export function isMissingStagingLabel(error: unknown): boolean {
  const e = error as ErrorLike | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.name === 'ResourceNotFoundException' &&
    typeof e.message === 'string' &&
    /staging label/i.test(e.message)
  );
}

/** For responses that lack a field the model calls required (or that loop). */
export function invalidResponse(operation: string, message: string): AwsCallError {
  return new AwsCallError(operation, 'InvalidResponse', message);
}
