import {
  IAMServiceException,
  LimitExceededException as IamLimitExceededException,
  NoSuchEntityException,
  ServiceNotSupportedException,
} from '@aws-sdk/client-iam';
import {
  InvalidRequestException,
  LimitExceededException as SecretsLimitExceededException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAwsError, SECRET_CARRYING_OPERATIONS, translateAwsError } from '../../lambda/aws/errors.ts';
import { describeForScan, findLeakedSecrets } from '../../invariants/index.ts';
import {
  AccessDeniedError,
  AwsCallError,
  CredentialNotFoundError,
  CredentialQuotaError,
  NoSuchUserError,
  SecretDeletedError,
  SecretNotFoundError,
  ThrottledError,
  UnsupportedServiceError,
} from '../../lambda/errors.ts';
import { ENCODINGS, leaksIn, leakyMessage } from '../support/secret-forms.ts';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** An error the SDK has no class for keeps its wire code as `name`. */
const iamUnmodelled = (name: string, message: string, httpStatusCode: number) =>
  new IAMServiceException({ name, $fault: 'client', message, ...metadata(httpStatusCode) });
const secretsUnmodelled = (name: string, message: string, httpStatusCode: number) =>
  new SecretsManagerServiceException({ name, $fault: 'client', message, ...metadata(httpStatusCode) });

describe('translateAwsError', () => {
  const rows: [string, string, unknown, new (...args: never[]) => AwsCallError, number][] = [
    [
      'an unknown user',
      'ListServiceSpecificCredentials',
      new NoSuchEntityException({ message: 'The user with name alice cannot be found.', ...metadata(404) }),
      NoSuchUserError,
      404,
    ],
    [
      'an unsupported service answered as NoSuchEntity',
      'CreateServiceSpecificCredential',
      new NoSuchEntityException({
        message: 'No such service foo.amazonaws.com is supported for Service Specific Credentials',
        ...metadata(404),
      }),
      UnsupportedServiceError,
      404,
    ],
    [
      'an unknown credential id',
      'DeleteServiceSpecificCredential',
      new NoSuchEntityException({
        message: 'No such credential ACCAEXAMPLE123456789 exists',
        ...metadata(404),
      }),
      CredentialNotFoundError,
      404,
    ],
    [
      'the two-credential quota',
      'CreateServiceSpecificCredential',
      new IamLimitExceededException({
        message: 'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2',
        ...metadata(409),
      }),
      CredentialQuotaError,
      409,
    ],
    [
      'a service without service-specific credentials',
      'CreateServiceSpecificCredential',
      new ServiceNotSupportedException({ message: 'not supported', ...metadata(404) }),
      UnsupportedServiceError,
      404,
    ],
    [
      "IAM's AccessDenied",
      'UpdateServiceSpecificCredential',
      iamUnmodelled('AccessDenied', 'User: x is not authorized', 403),
      AccessDeniedError,
      403,
    ],
    [
      "Secrets Manager's AccessDeniedException",
      'GetSecretValue',
      secretsUnmodelled('AccessDeniedException', 'not authorized', 400),
      AccessDeniedError,
      400,
    ],
    [
      "IAM's Throttling",
      'ListServiceSpecificCredentials',
      iamUnmodelled('Throttling', 'Rate exceeded', 400),
      ThrottledError,
      400,
    ],
    [
      'ThrottlingException',
      'PutSecretValue',
      secretsUnmodelled('ThrottlingException', 'Rate exceeded', 400),
      ThrottledError,
      400,
    ],
    [
      'TooManyRequestsException',
      'DescribeSecret',
      secretsUnmodelled('TooManyRequestsException', 'slow down', 429),
      ThrottledError,
      429,
    ],
    [
      'an unknown secret',
      'DescribeSecret',
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        ...metadata(400),
      }),
      SecretNotFoundError,
      400,
    ],
    [
      'a secret scheduled for deletion',
      'PutSecretValue',
      new InvalidRequestException({
        message: "You can't perform this operation on the secret because it was marked for deletion.",
        ...metadata(400),
      }),
      SecretDeletedError,
      400,
    ],
  ];

  it.each(rows)('translates %s (%s)', (_case, operation, error, expected, status) => {
    const translated = translateAwsError(operation, error);

    expect(translated).toBeInstanceOf(expected);
    expect(translated.operation).toBe(operation);
    expect(translated.code).toBe((error as Error).name);
    expect(translated.httpStatus).toBe(status);
    if (SECRET_CARRYING_OPERATIONS.has(operation)) {
      // Classified by AWS's message, which is then withheld (it may echo the request).
      expect(translated.cause).not.toBe(error);
      expect(translated.message).not.toContain((error as Error).message);
      expect(translated.message).toContain("AWS's message withheld");
    } else {
      expect(translated.cause).toBe(error);
      expect(translated.message).toContain((error as Error).message);
    }
  });

  it('marks only throttling as retryable', () => {
    expect(
      translateAwsError('ListSecrets', secretsUnmodelled('ThrottlingException', 'x', 400)).retryable,
    ).toBe(true);
    expect(
      translateAwsError('ListSecrets', secretsUnmodelled('InternalServiceError', 'x', 500)).retryable,
    ).toBe(false);
  });

  it('keeps other InvalidRequestExceptions as a plain AwsCallError with their code', () => {
    const error = new InvalidRequestException({
      message: 'You provided a parameter value that is not valid',
      ...metadata(400),
    });

    const translated = translateAwsError('PutSecretValue', error);

    expect(translated.constructor).toBe(AwsCallError);
    expect(translated.code).toBe('InvalidRequestException');
  });

  it("does not read Secrets Manager's LimitExceededException as the credential quota", () => {
    const error = new SecretsLimitExceededException({ message: 'too many versions', ...metadata(400) });

    const translated = translateAwsError('PutSecretValue', error);

    expect(translated).not.toBeInstanceOf(CredentialQuotaError);
    expect(translated.code).toBe('LimitExceededException');
  });

  it('translates an unmodelled code to AwsCallError carrying that code and status', () => {
    const error = iamUnmodelled('ValidationError', '1 validation error detected', 400);

    const translated = translateAwsError('DeleteServiceSpecificCredential', error);

    expect(translated.constructor).toBe(AwsCallError);
    expect(translated.code).toBe('ValidationError');
    expect(translated.httpStatus).toBe(400);
    expect(translated.message).toBe(
      'DeleteServiceSpecificCredential failed: ValidationError: 1 validation error detected',
    );
  });

  it("uses a Node network error's code", () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

    const translated = translateAwsError('ListSecrets', error);

    expect(translated.code).toBe('ECONNREFUSED');
    expect(translated.httpStatus).toBeUndefined();
  });

  it('appends the ids it is given to the message', () => {
    const error = new ResourceNotFoundException({
      message: "Secrets Manager can't find the specified secret.",
      ...metadata(400),
    });

    const translated = translateAwsError('DescribeSecret', error, {
      subject: 'secret arn:aws:secretsmanager:x',
    });

    expect(translated.message).toContain('(secret arn:aws:secretsmanager:x)');
  });

  it('passes an already translated error through', () => {
    const already = new SecretNotFoundError('DescribeSecret', 'ResourceNotFoundException', 'gone');

    expect(translateAwsError('DescribeSecret', already)).toBe(already);
  });

  it('never echoes a thrown non-Error value', () => {
    const translated = translateAwsError('PutSecretValue', 'hunter2-secret-value');

    expect(translated.message).not.toContain('hunter2');
    expect(translated.code).toBe('UnknownError');
  });

  it('scrubs sensitive values from the message and does not keep the raw error as cause', () => {
    const secret = 'p4ssw0rd+SECRET/value=';
    const error = iamUnmodelled('ValidationException', `Value '${secret}' at 'secretString' failed`, 400);

    const translated = translateAwsError('UpdateSecret', error, { sensitive: [secret] });

    expect(translated.message).not.toContain(secret);
    expect(translated.message).toContain('[redacted]');
    expect(translated.cause).not.toBe(error);
    expect(findLeakedSecrets([describeForScan(translated)], [secret])).toEqual([]);
    expect(translated.httpStatus).toBe(400);
  });

  it('withholds the body of a response that failed to parse', () => {
    // What the SDK throws when a body is not valid JSON: V8 quotes the body in the message.
    const error = Object.assign(
      new SyntaxError(`Unexpected token 'p', "{"SecretString":"pw-in-body"" is not valid JSON`),
      {
        $metadata: { httpStatusCode: 200 },
      },
    );
    Object.defineProperty(error, '$responseBodyText', {
      value: '{"SecretString":"pw-in-body"',
      enumerable: false,
    });

    const translated = translateAwsError('GetSecretValue', error);

    expect(translated.message).not.toContain('pw-in-body');
    expect(String((translated.cause as Error).message)).not.toContain('pw-in-body');
    expect(translated.message).toContain('could not be parsed');
  });
});

describe('classifyAwsError', () => {
  it('translates raw codes as batch entries report them', () => {
    const translated = classifyAwsError('BatchGetSecretValue', {
      code: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });

    expect(translated).toBeInstanceOf(SecretNotFoundError);
    expect(translated.httpStatus).toBeUndefined();
  });

  it('translates IAM wire codes like their SDK names', () => {
    expect(
      classifyAwsError('CreateServiceSpecificCredential', { code: 'LimitExceeded', message: 'quota' }),
    ).toBeInstanceOf(CredentialQuotaError);
    expect(
      classifyAwsError('CreateServiceSpecificCredential', { code: 'NotSupportedService', message: 'no' }),
    ).toBeInstanceOf(UnsupportedServiceError);
  });
});

describe('errors of calls that carry a secret', () => {
  // What a 400 that echoes the request looks like: the SecretString, JSON-escaped, cut short.
  const secret = JSON.stringify({ credentialId: 'ACCA1', password: 'Zx9/+aLongPasswordThatMustNotLeak==' });
  const echo = `1 validation error: Value '${JSON.stringify(secret).slice(1, 60)}' at 'secretString' failed`;

  it.each([...SECRET_CARRYING_OPERATIONS])(
    'keeps only the code, HTTP status and request id (%s)',
    (operation) => {
      const error = new SecretsManagerServiceException({
        name: 'ValidationException',
        $fault: 'client',
        message: echo,
        $metadata: { httpStatusCode: 400, requestId: 'req-1234-abcd' },
      });

      const translated = translateAwsError(operation, error, { subject: 'secret s1', sensitive: [secret] });

      expect(translated.message).toBe(
        `${operation} failed: ValidationException: AWS's message withheld: this call carries a secret (HTTP 400, request id req-1234-abcd) (secret s1)`,
      );
      expect(translated.code).toBe('ValidationException');
      expect(translated.httpStatus).toBe(400);
      const cause = translated.cause as Error;
      expect(JSON.stringify(cause, Object.getOwnPropertyNames(cause))).not.toContain('LongPassword');
    },
  );

  it('does not repeat a request id that is not one', () => {
    const error = new SecretsManagerServiceException({
      name: 'InternalServiceError',
      $fault: 'server',
      message: 'boom',
      $metadata: { httpStatusCode: 500, requestId: 'has spaces and "quotes"' },
    });

    expect(translateAwsError('PutSecretValue', error).message).not.toContain('quotes');
  });

  it("keeps a network error's own text: no answer came back that could echo the request", () => {
    const error = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    const translated = translateAwsError('PutSecretValue', error);

    expect(translated.message).toBe('PutSecretValue failed: ECONNRESET: socket hang up');
  });

  it('still classifies by the withheld message (an unknown user on Create)', () => {
    const error = new NoSuchEntityException({
      message: 'The user with name alice cannot be found.',
      ...metadata(404),
    });

    const translated = translateAwsError('CreateServiceSpecificCredential', error);

    expect(translated).toBeInstanceOf(NoSuchUserError);
    expect(translated.message).not.toContain('alice cannot be found');
  });
});

describe('errors without an HTTP status (Node kept its own text)', () => {
  // Node's text names what it was doing; a library in between may quote the request it sent,
  // in any encoding, or cut it anywhere. Every secret the call knows goes: the record whole,
  // the password or API key inside it in every form and every piece of 12+ characters.
  const recordOf = (secret: { password?: string; apiKey?: string }) =>
    JSON.stringify({
      credentialId: 'ACCAEXAMPLE123456789',
      userName: 'app',
      serviceName: 'cassandra.amazonaws.com',
      issuedAt: '2026-12-04T08:00:00.000Z',
      ...(secret.password ? { username: 'app-at-123456789012', password: secret.password } : {}),
      ...(secret.apiKey ? { apiKey: secret.apiKey, alias: 'app-key' } : {}),
    });
  const lost = (text: string) =>
    Object.assign(new Error(`socket hang up while writing ${text}`), { code: 'ECONNRESET' });
  const password = 'Zx9/+aLongPasswordThatMust+NotLeak/=AbCdEfGhIjKlMnOpQrStUvWx';

  it.each(Object.keys(ENCODINGS))('removes the password %s', (name) => {
    const encode = ENCODINGS[name] as (s: string) => string;
    const translated = translateAwsError('PutSecretValue', lost(encode(password)), {
      subject: 'secret s1',
      sensitive: [recordOf({ password })],
    });

    expect(leaksIn(describeForScan(translated), password), translated.message).toEqual([]);
    expect(translated.message).toMatch(
      /^PutSecretValue failed: ECONNRESET: socket hang up while writing .*\[redacted\]/,
    );
    expect(translated.httpStatus).toBeUndefined();
  });

  it('removes a piece of the password quoted inside the record, cut short', () => {
    const record = recordOf({ password });
    const translated = translateAwsError('PutSecretValue', lost(record.slice(0, record.length - 20)), {
      sensitive: [record],
    });

    expect(leaksIn(describeForScan(translated), password)).toEqual([]);
    // The record's innocent parts (ids, names) stay: only the secret and its pieces go.
    expect(translated.message).toContain('"serviceName":"cassandra.amazonaws.com"');
  });

  it('property: no encoding or piece of a random password or API key survives', () => {
    fc.assert(
      fc.property(leakyMessage, fc.boolean(), ({ secret, message }, isKey) => {
        const record = recordOf(isKey ? { apiKey: secret } : { password: secret });
        const translated = translateAwsError('PutSecretValue', lost(message), { sensitive: [record] });
        expect(leaksIn(describeForScan(translated), secret)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps text without a secret as Node wrote it', () => {
    const error = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT' });

    const translated = translateAwsError('PutSecretValue', error, { sensitive: [recordOf({ password })] });

    expect(translated.message).toBe('PutSecretValue failed: ETIMEDOUT: connect ETIMEDOUT 10.0.0.1:443');
    expect(translated.cause).toBe(error);
  });
});
