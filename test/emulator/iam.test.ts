import {
  CreateServiceSpecificCredentialCommand,
  CreateUserCommand,
  DeleteServiceSpecificCredentialCommand,
  GetUserCommand,
  type IAMClient,
  ListServiceSpecificCredentialsCommand,
  ListUsersCommand,
  ResetServiceSpecificCredentialCommand,
  type ServiceSpecificCredentialMetadata,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure, type Harness, MODES, startHarness } from './harness.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';
const ID_PATTERN_MESSAGE =
  "1 validation error detected: Value at 'serviceSpecificCredentialId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+";

async function listAll(
  iam: IAMClient,
  input: { UserName?: string; ServiceName?: string; AllUsers?: boolean },
) {
  const out: ServiceSpecificCredentialMetadata[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await iam.send(new ListServiceSpecificCredentialsCommand({ ...input, Marker: marker }));
    out.push(...(page.ServiceSpecificCredentials ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
    pages++;
  } while (marker);
  return { credentials: out, pages };
}

describe.each(MODES)('IAM service-specific credentials (%s)', (mode) => {
  let h: Harness;
  let iam: IAMClient;
  beforeEach(async () => {
    h = await startHarness(mode);
    h.emu.iam.createUser('alice');
    iam = h.iam({ maxAttempts: 1 });
  });
  afterEach(() => h.close());

  const create = (serviceName = KEYSPACES, userName = 'alice') =>
    iam.send(new CreateServiceSpecificCredentialCommand({ UserName: userName, ServiceName: serviceName }));

  it('creates a credential and shows its password only on creation', async () => {
    const { ServiceSpecificCredential: c } = await create();
    expect(c?.ServiceSpecificCredentialId).toMatch(/^ACCA[A-Z0-9]{17}$/);
    expect(c?.ServiceUserName).toBe('alice-at-123456789012');
    expect(c?.ServicePassword).toMatch(/^[A-Za-z0-9+/=]{60}$/);
    expect(c?.Status).toBe('Active');
    expect(c?.CreateDate).toBeInstanceOf(Date);

    const listed = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' }));
    expect(listed.ServiceSpecificCredentials).toHaveLength(1);
    expect(listed.ServiceSpecificCredentials?.[0]).not.toHaveProperty('ServicePassword');
    expect(listed.ServiceSpecificCredentials?.[0]?.ServiceUserName).toBe('alice-at-123456789012');
    expect(h.emu.iam.credential(c?.ServiceSpecificCredentialId ?? '')?.secret).toBe(c?.ServicePassword);
  });

  it('gives the second credential of a user a different service user name', async () => {
    await create();
    const { ServiceSpecificCredential: second } = await create();
    expect(second?.ServiceUserName).toBe('alice+1-at-123456789012');
  });

  it('answers NoSuchEntity 404 for an unknown user on every operation, before anything else', async () => {
    const message = 'The user with name bob cannot be found.';
    const calls = [
      iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'bob', ServiceName: 'nope' })),
      iam.send(new CreateServiceSpecificCredentialCommand({ UserName: 'bob', ServiceName: 'nope' })),
      iam.send(
        new UpdateServiceSpecificCredentialCommand({
          UserName: 'bob',
          ServiceSpecificCredentialId: 'x-y',
          Status: 'Bad' as never,
        }),
      ),
      iam.send(
        new DeleteServiceSpecificCredentialCommand({ UserName: 'bob', ServiceSpecificCredentialId: 'x-y' }),
      ),
      iam.send(
        new ResetServiceSpecificCredentialCommand({ UserName: 'bob', ServiceSpecificCredentialId: 'x-y' }),
      ),
    ];
    for (const call of calls) {
      const e = await failure(call);
      expect(e.name).toBe('NoSuchEntityException');
      expect(e.message).toBe(message);
      expect(e.$metadata.httpStatusCode).toBe(404);
    }
  });

  it('answers NoSuchEntity 404 for an unsupported service on Create and List', async () => {
    for (const call of [
      create('s3.amazonaws.com'),
      iam.send(
        new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: 's3.amazonaws.com' }),
      ),
    ]) {
      const e = await failure(call);
      expect(e.name).toBe('NoSuchEntityException');
      expect(e.message).toBe(
        'No such service s3.amazonaws.com is supported for Service Specific Credentials',
      );
      expect(e.$metadata.httpStatusCode).toBe(404);
    }
  });

  it('refuses a third credential per user and service, counting Inactive ones', async () => {
    const first = await create();
    await create();
    await iam.send(
      new UpdateServiceSpecificCredentialCommand({
        UserName: 'alice',
        ServiceSpecificCredentialId: first.ServiceSpecificCredential?.ServiceSpecificCredentialId,
        Status: 'Inactive',
      }),
    );
    const e = await failure(create());
    expect(e.name).toBe('LimitExceededException');
    expect(e.message).toBe('Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2');
    expect(e.$metadata.httpStatusCode).toBe(409);
    // Other services have their own two slots.
    await expect(create('codecommit.amazonaws.com')).resolves.toBeDefined();
  });

  it('is retried by the SDK as throttling: a third Create is sent 3 times with default settings', async () => {
    await create();
    await create();
    h.emu.clearCalls();
    const e = await failure(
      h.iam().send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName: KEYSPACES })),
    );
    expect(e.name).toBe('LimitExceededException');
    expect(e.$metadata.attempts).toBe(3);
    expect(h.emu.callsOf('CreateServiceSpecificCredential').map((c) => c.outcome)).toEqual([
      'LimitExceeded',
      'LimitExceeded',
      'LimitExceeded',
    ]);
  });

  it('frees a slot when a credential is deleted, Active or not', async () => {
    const first = await create();
    await create();
    await iam.send(
      new DeleteServiceSpecificCredentialCommand({
        UserName: 'alice',
        ServiceSpecificCredentialId: first.ServiceSpecificCredential?.ServiceSpecificCredentialId,
      }),
    );
    await expect(create()).resolves.toBeDefined();
    expect(h.emu.iam.credentials({ userName: 'alice' })).toHaveLength(2);
  });

  it('validates credential ids and statuses with the exact messages', async () => {
    const bad = await failure(
      iam.send(
        new DeleteServiceSpecificCredentialCommand({
          UserName: 'alice',
          ServiceSpecificCredentialId: 'ACCA-not-valid',
        }),
      ),
    );
    expect(bad.name).toBe('ValidationError');
    expect(bad.message).toBe(ID_PATTERN_MESSAGE);
    expect(bad.$metadata.httpStatusCode).toBe(400);

    const unknown = await failure(
      iam.send(
        new ResetServiceSpecificCredentialCommand({
          UserName: 'alice',
          ServiceSpecificCredentialId: 'ACCAAAAAAAAAAAAAAAAAA',
        }),
      ),
    );
    expect(unknown.name).toBe('NoSuchEntityException');
    expect(unknown.message).toBe('No such credential ACCAAAAAAAAAAAAAAAAAA exists');
    expect(unknown.$metadata.httpStatusCode).toBe(404);

    const { ServiceSpecificCredential: c } = await create();
    const status = await failure(
      iam.send(
        new UpdateServiceSpecificCredentialCommand({
          UserName: 'alice',
          ServiceSpecificCredentialId: c?.ServiceSpecificCredentialId,
          Status: 'Expired' as never,
        }),
      ),
    );
    expect(status.name).toBe('ValidationError');
    expect(status.message).toBe(
      "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set",
    );
  });

  it('does not find another user’s credential by id', async () => {
    h.emu.iam.createUser('bob');
    const { ServiceSpecificCredential: c } = await create(KEYSPACES, 'bob');
    const e = await failure(
      iam.send(
        new DeleteServiceSpecificCredentialCommand({
          UserName: 'alice',
          ServiceSpecificCredentialId: c?.ServiceSpecificCredentialId,
        }),
      ),
    );
    expect(e.name).toBe('NoSuchEntityException');
  });

  it('resets a password keeping the id and the status', async () => {
    const { ServiceSpecificCredential: c } = await create();
    const id = c?.ServiceSpecificCredentialId;
    await iam.send(
      new UpdateServiceSpecificCredentialCommand({
        UserName: 'alice',
        ServiceSpecificCredentialId: id,
        Status: 'Inactive',
      }),
    );
    const { ServiceSpecificCredential: reset } = await iam.send(
      new ResetServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: id }),
    );
    expect(reset?.ServiceSpecificCredentialId).toBe(id);
    expect(reset?.Status).toBe('Inactive');
    expect(reset?.ServicePassword).toMatch(/^[A-Za-z0-9+/=]{60}$/);
    expect(reset?.ServicePassword).not.toBe(c?.ServicePassword);
    expect(h.emu.iam.credential(id ?? '')?.secret).toBe(reset?.ServicePassword);
    expect(h.emu.issuedSecrets()).toEqual([c?.ServicePassword, reset?.ServicePassword]);
  });

  it('pages List with Marker and IsTruncated (page size 1 by default)', async () => {
    const a = await create();
    const b = await create();
    const first = await iam.send(
      new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: KEYSPACES }),
    );
    expect(first.IsTruncated).toBe(true);
    expect(first.Marker).toBeTruthy();
    const { credentials, pages } = await listAll(iam, { UserName: 'alice', ServiceName: KEYSPACES });
    expect(pages).toBe(2);
    expect(credentials.map((c) => c.ServiceSpecificCredentialId)).toEqual([
      a.ServiceSpecificCredential?.ServiceSpecificCredentialId,
      b.ServiceSpecificCredential?.ServiceSpecificCredentialId,
    ]);
  });

  it('lists every service when ServiceName is omitted and every user with AllUsers', async () => {
    h.emu.iam.createUser('bob');
    await create(KEYSPACES);
    await create('codecommit.amazonaws.com');
    await create(KEYSPACES, 'bob');
    expect((await listAll(iam, { UserName: 'alice' })).credentials).toHaveLength(2);
    const all = await listAll(iam, { AllUsers: true });
    expect(all.credentials.map((c) => c.UserName).sort()).toEqual(['alice', 'alice', 'bob']);
  });

  it('treats a missing UserName as the caller (emulator-admin)', async () => {
    await create();
    const listed = await iam.send(new ListServiceSpecificCredentialsCommand({}));
    expect(listed.ServiceSpecificCredentials).toEqual([]);
    expect(listed.IsTruncated).toBe(false);
    const { User } = await iam.send(new GetUserCommand({}));
    expect(User?.UserName).toBe('emulator-admin');
  });

  it('issues Bedrock API keys with an alias, a secret and an expiry, and lists them Expired later', async () => {
    const { ServiceSpecificCredential: c } = await iam.send(
      new CreateServiceSpecificCredentialCommand({
        UserName: 'alice',
        ServiceName: BEDROCK,
        CredentialAgeDays: 2,
      }),
    );
    expect(c?.ServiceCredentialAlias).toBeTruthy();
    expect(c?.ServiceCredentialSecret).toMatch(/^ABSK/);
    expect(c?.ServiceUserName).toBeUndefined();
    expect(c?.ServicePassword).toBeUndefined();
    expect(c?.ExpirationDate?.getTime()).toBe((c?.CreateDate?.getTime() ?? 0) + 2 * 86_400_000);
    h.emu.clock.advanceDays(2);
    const listed = await iam.send(
      new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: BEDROCK }),
    );
    expect(listed.ServiceSpecificCredentials?.[0]?.Status).toBe('Expired');
    expect(listed.ServiceSpecificCredentials?.[0]).not.toHaveProperty('ServiceCredentialSecret');
    expect(listed.ServiceSpecificCredentials?.[0]?.ExpirationDate).toEqual(c?.ExpirationDate);
  });

  it('rejects CredentialAgeDays out of range', async () => {
    const e = await failure(
      iam.send(
        new CreateServiceSpecificCredentialCommand({
          UserName: 'alice',
          ServiceName: BEDROCK,
          CredentialAgeDays: 0,
        }),
      ),
    );
    expect(e.name).toBe('ValidationError');
  });

  it('creates, gets and lists users', async () => {
    const { User } = await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    expect(User?.Arn).toBe('arn:aws:iam::123456789012:user/carol');
    const dup = await failure(iam.send(new CreateUserCommand({ UserName: 'carol' })));
    expect(dup.name).toBe('EntityAlreadyExistsException');
    expect((await iam.send(new GetUserCommand({ UserName: 'carol' }))).User?.UserId).toBe(User?.UserId);
    const page = await iam.send(new ListUsersCommand({}));
    expect(page.Users).toHaveLength(1);
    expect(page.IsTruncated).toBe(true);
  });
});
