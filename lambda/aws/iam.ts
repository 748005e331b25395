// The IAM adapter: service-specific credentials behind CredentialsPort. It always names the
// user (IAM would otherwise act on the caller), pages by hand (the SDK has no paginator for
// ListServiceSpecificCredentials), maps SDK shapes to the domain's and translates errors.
import { holdSecrets } from '../redact.ts';
import {
  CreateServiceSpecificCredentialCommand,
  type CreateServiceSpecificCredentialCommandInput,
  type CreateServiceSpecificCredentialCommandOutput,
  DeleteServiceSpecificCredentialCommand,
  type IAMClient,
  ListServiceSpecificCredentialsCommand,
  type ListServiceSpecificCredentialsRequest,
  ResetServiceSpecificCredentialCommand,
  type ServiceSpecificCredential,
  type ServiceSpecificCredentialMetadata,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import type { Credential, CredentialStatus, IssuedCredential } from '../rotation/model.ts';
import { invalidResponse, translateAwsError } from './errors.ts';
import type { CredentialsPort } from './ports.ts';

const LIST = 'ListServiceSpecificCredentials';
const CREATE = 'CreateServiceSpecificCredential';
const RESET = 'ResetServiceSpecificCredential';
const UPDATE = 'UpdateServiceSpecificCredential';
const DELETE = 'DeleteServiceSpecificCredential';

/** IAM's largest page. */
const MAX_ITEMS = 1000;

const STATUSES: ReadonlySet<string> = new Set<CredentialStatus>(['Active', 'Inactive', 'Expired']);

export class IamCredentials implements CredentialsPort {
  readonly #iam: IAMClient;

  constructor(iam: IAMClient) {
    this.#iam = iam;
  }

  async listCredentials(userName: string, serviceName: string): Promise<Credential[]> {
    return this.#list(
      { UserName: userName, ServiceName: serviceName },
      `user ${userName}, service ${serviceName}`,
    );
  }

  /**
   * Every user's credentials in one paged listing (`AllUsers`, which IAM rejects together
   * with `UserName`), optionally for one service only: one call per 1000 credentials instead
   * of one per target.
   */
  async listAllCredentials(serviceName?: string): Promise<Credential[]> {
    const input: ListServiceSpecificCredentialsRequest =
      serviceName === undefined ? { AllUsers: true } : { AllUsers: true, ServiceName: serviceName };
    return this.#list(input, serviceName === undefined ? 'all users' : `all users, service ${serviceName}`);
  }

  async createCredential(userName: string, serviceName: string, ageDays?: number): Promise<IssuedCredential> {
    const command = new CreateServiceSpecificCredentialCommand(
      ageDays === undefined
        ? { UserName: userName, ServiceName: serviceName }
        : { UserName: userName, ServiceName: serviceName, CredentialAgeDays: ageDays },
    );
    refuseUnsafeRetries(command);
    const subject = `user ${userName}, service ${serviceName}`;
    try {
      const output = await this.#iam.send(command);
      return toIssuedCredential(CREATE, output.ServiceSpecificCredential);
    } catch (error) {
      throw translateAwsError(CREATE, error instanceof CreateNotRetried ? error.original : error, {
        subject,
      });
    }
  }

  async resetCredential(userName: string, credentialId: string): Promise<IssuedCredential> {
    const output = await this.#send(RESET, `user ${userName}, credential ${credentialId}`, () =>
      this.#iam.send(
        new ResetServiceSpecificCredentialCommand({
          UserName: userName,
          ServiceSpecificCredentialId: credentialId,
        }),
      ),
    );
    return toIssuedCredential(RESET, output.ServiceSpecificCredential);
  }

  async setCredentialStatus(
    userName: string,
    credentialId: string,
    status: 'Active' | 'Inactive',
  ): Promise<void> {
    await this.#send(UPDATE, `user ${userName}, credential ${credentialId}`, () =>
      this.#iam.send(
        new UpdateServiceSpecificCredentialCommand({
          UserName: userName,
          ServiceSpecificCredentialId: credentialId,
          Status: status,
        }),
      ),
    );
  }

  async deleteCredential(userName: string, credentialId: string): Promise<void> {
    await this.#send(DELETE, `user ${userName}, credential ${credentialId}`, () =>
      this.#iam.send(
        new DeleteServiceSpecificCredentialCommand({
          UserName: userName,
          ServiceSpecificCredentialId: credentialId,
        }),
      ),
    );
  }

  async #list(input: ListServiceSpecificCredentialsRequest, subject: string): Promise<Credential[]> {
    const credentials: Credential[] = [];
    let marker: string | undefined;
    do {
      const request: ListServiceSpecificCredentialsRequest =
        marker === undefined
          ? { ...input, MaxItems: MAX_ITEMS }
          : { ...input, MaxItems: MAX_ITEMS, Marker: marker };
      const page = await this.#send(LIST, subject, () =>
        this.#iam.send(new ListServiceSpecificCredentialsCommand(request)),
      );
      for (const item of page.ServiceSpecificCredentials ?? []) credentials.push(toCredential(LIST, item));
      if (!page.IsTruncated) break;
      if (!page.Marker || page.Marker === marker) {
        throw invalidResponse(LIST, `a truncated page came without a new Marker (${subject})`);
      }
      marker = page.Marker;
    } while (marker !== undefined);
    return credentials;
  }

  async #send<T>(operation: string, subject: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateAwsError(operation, error, { subject });
    }
  }
}

/**
 * Create has no idempotency token, so the SDK's own retries are only safe when IAM rejected
 * the request outright. A network error, a timeout or a 5xx may hide a credential that was
 * created: retrying would take the second slot with a credential nobody records. IAM's
 * LimitExceeded (the quota is full) is retried by the SDK as throttling, which only repeats
 * the same answer. Everything else in the 4xx range (throttling, clock skew) stays retryable.
 */
function refuseUnsafeRetries(command: CreateServiceSpecificCredentialCommand): void {
  // Sits inside the SDK's retry loop (right after it), so it sees every attempt's error.
  const middleware: FinalizeRequestMiddleware<
    CreateServiceSpecificCredentialCommandInput,
    CreateServiceSpecificCredentialCommandOutput
  > = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      if (isSafeToRetryCreate(error)) throw error;
      throw new CreateNotRetried(error);
    }
  };
  command.middlewareStack.addRelativeTo(middleware, {
    name: 'refuseUnsafeCreateRetries',
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    override: true,
  });
}

function isSafeToRetryCreate(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name;
  return (
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    name !== 'LimitExceededException' &&
    name !== 'LimitExceeded'
  );
}

/**
 * Carries an error past the SDK's retry loop without being retried: the SDK classifies errors
 * by name, HTTP status and `cause`, so this one has none of them and keeps the original aside.
 */
class CreateNotRetried extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super('CreateServiceSpecificCredential is not retried after this error');
    this.name = 'CreateNotRetried';
    this.original = original;
  }
}

function toCredential(
  operation: string,
  item: ServiceSpecificCredentialMetadata | ServiceSpecificCredential,
): Credential {
  const id = item.ServiceSpecificCredentialId;
  if (!id) throw invalidResponse(operation, 'a credential came without ServiceSpecificCredentialId');
  const { UserName: userName, ServiceName: serviceName, Status: status, CreateDate: createdAt } = item;
  if (!userName || !serviceName)
    throw invalidResponse(operation, `credential ${id} came without UserName/ServiceName`);
  if (!(createdAt instanceof Date) || Number.isNaN(createdAt.getTime())) {
    throw invalidResponse(operation, `credential ${id} came without a valid CreateDate`);
  }
  if (status === undefined || !STATUSES.has(status)) {
    throw invalidResponse(
      operation,
      `credential ${id} has status ${String(status)}, expected Active|Inactive|Expired`,
    );
  }
  return {
    id,
    userName,
    serviceName,
    status,
    createdAt,
    expiresAt: item.ExpirationDate,
    serviceUserName: item.ServiceUserName,
    alias: item.ServiceCredentialAlias,
  };
}

/** An issued credential from a Create or Reset response (also how the bench seeds targets). */
export function toIssuedCredential(
  operation: string,
  issued: ServiceSpecificCredential | undefined,
): IssuedCredential {
  if (!issued) throw invalidResponse(operation, 'the response carries no ServiceSpecificCredential');
  const credential = toCredential(operation, issued);
  if (!issued.ServicePassword && !issued.ServiceCredentialSecret) {
    throw invalidResponse(
      operation,
      `credential ${credential.id} came with neither ServicePassword nor ServiceCredentialSecret`,
    );
  }
  // Kept for redacting errors whose origin does not know it (lambda/redact.ts redactHeld).
  holdSecrets([issued.ServicePassword, issued.ServiceCredentialSecret]);
  return {
    ...credential,
    servicePassword: issued.ServicePassword,
    serviceCredentialSecret: issued.ServiceCredentialSecret,
  };
}
