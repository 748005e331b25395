// Translates AWS SDK errors into the product's typed errors (../errors.ts), in this one place,
// so the executor never looks at SDK error names. Messages are built from the AWS error code,
// the AWS error message and ids only, never from request parameters. For the calls that write
// a secret (PutSecretValue's request; Create's and Reset's responses) even AWS's message is
// withheld: a 400 may echo the request in any form, which no scrubbing can promise to find.
// They keep the code, the HTTP status and the request id. Any other message is scrubbed of
// every secret the call knows (../redact.ts). A response body that failed to parse is
// withheld for every call (GetSecretValue's responses carry secrets).
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
import { redact } from '../redact.ts';
import type { CredentialRecord } from '../rotation/model.ts';

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

/**
 * Calls that issue or store a secret: PutSecretValue's request carries it, Create's and
 * Reset's successful responses do. (GetSecretValue sends ids only and its error answers carry
 * no value; its unparseable bodies are withheld like any call's.)
 */
export const SECRET_CARRYING_OPERATIONS: ReadonlySet<string> = new Set([
  'CreateServiceSpecificCredential',
  'ResetServiceSpecificCredential',
  'PutSecretValue',
]);

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
  /**
   * The AWS message the table classifies by, when `message` withholds it (some codes are told
   * apart by their message only). Never shown.
   */
  readonly classifyBy?: string | undefined;
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
  const facts = describe(error, options.sensitive ?? []);
  // Only an answer from the service can echo the request: a network error or a timeout
  // (no HTTP status) is Node's own text, which operators need to tell a lost response apart.
  const echoable = SECRET_CARRYING_OPERATIONS.has(operation) && facts.httpStatus !== undefined;
  return classifyAwsError(operation, echoable ? withheld(error, facts) : facts, options.subject);
}

/** The translation table, for errors that do not come as thrown SDK errors (batch entries). */
export function classifyAwsError(operation: string, facts: AwsErrorFacts, subject?: string): AwsCallError {
  const { code, httpStatus, cause } = facts;
  const message = subject ? `${facts.message} (${subject})` : facts.message;
  const aws = facts.classifyBy ?? facts.message;
  const make = (ErrorClass: AwsErrorClass, retryable = false) =>
    new ErrorClass(operation, code, message, { cause, httpStatus, retryable });

  switch (code) {
    case 'NoSuchEntityException':
    case 'NoSuchEntity':
      // IAM answers an unknown user, an unknown service and an unknown id with the same code.
      if (/the user with name/i.test(aws)) return make(NoSuchUserError);
      if (/no such service/i.test(aws)) return make(UnsupportedServiceError);
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
      if (/marked for deletion/i.test(aws)) return make(SecretDeletedError);
      if (/previous rotation isn't complete/i.test(aws)) return make(RotationInProgressError);
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
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
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

/** The fields of a credential record (docs/DESIGN.md "Secret value") that hold the secret. */
const RECORD_SECRET_FIELDS = ['password', 'apiKey'] as const satisfies readonly (keyof CredentialRecord)[];

/**
 * Removes every secret the call knows, in every encoding and piece ../redact.ts covers. A
 * serialized credential record goes whole (its ids, names and dates are innocent, so not by
 * piece) and the password or API key inside it goes in every form and every piece; any other
 * value is treated as a secret itself.
 */
function scrub(message: string, sensitive: readonly (string | undefined)[]): string {
  const secrets: string[] = [];
  const wholes: string[] = [];
  for (const value of sensitive) {
    if (!value) continue;
    const inside = secretsOfRecord(value);
    if (inside.length > 0) wholes.push(value);
    secrets.push(...(inside.length > 0 ? inside : [value]));
  }
  return redact(message, secrets, wholes);
}

/** The password or API key of a serialized credential record; none if `value` is not one. */
export function secretsOfRecord(value: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const record = parsed as Record<string, unknown>;
  return RECORD_SECRET_FIELDS.flatMap((field) => {
    const secret = record[field];
    return typeof secret === 'string' && secret.length > 0 ? [secret] : [];
  });
}

/** A request id as AWS forms them; anything else is not repeated. */
const REQUEST_ID = /^[A-Za-z0-9-]{1,128}$/;

/**
 * The facts of a secret-carrying call's error with AWS's message replaced by what is safe
 * whatever the message held: the code, the HTTP status and the request id (for AWS support).
 */
function withheld(error: unknown, facts: AwsErrorFacts): AwsErrorFacts {
  const requestId = (error as ErrorLike | null)?.$metadata?.requestId;
  const parts = [
    facts.httpStatus !== undefined ? `HTTP ${facts.httpStatus}` : undefined,
    typeof requestId === 'string' && REQUEST_ID.test(requestId) ? `request id ${requestId}` : undefined,
  ].filter(Boolean);
  const what =
    facts.message === UNPARSEABLE ? UNPARSEABLE : "AWS's message withheld: this call carries a secret";
  const message = `${what}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
  // The classification may look at the message; only its verdict leaves this module.
  const original = (error as ErrorLike | null)?.message;
  return {
    code: facts.code,
    message,
    httpStatus: facts.httpStatus,
    cause: redactedCopy(facts.code, message, facts.httpStatus),
    classifyBy: typeof original === 'string' ? original : '',
  };
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
