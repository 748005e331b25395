// The IAM model: users and their service-specific credentials, with the rules of
// docs/AWS-BEHAVIOUR.md (unknown user first, supported services, two credentials per
// user and service with Inactive/Expired counted, password shown only by Create and Reset).
// Its API methods are named after the operations (see catalogue.ts); tests use the
// camelCase helpers below for setup, tampering and invariant checks.
import type { VirtualClock } from './clock.ts';
import { AwsApiError } from './errors.ts';
import { alnum, apiKey, servicePassword, upperAlnum } from './random.ts';

export type IamCredentialStatus = 'Active' | 'Inactive' | 'Expired';

/** Services IAM issues service-specific credentials for; `expiry` = alias/secret kind with CredentialAgeDays. */
export const SUPPORTED_SERVICES: Readonly<Record<string, { readonly apiKey: boolean }>> = {
  'cassandra.amazonaws.com': { apiKey: false },
  'codecommit.amazonaws.com': { apiKey: false },
  'bedrock.amazonaws.com': { apiKey: true },
  'logs.amazonaws.com': { apiKey: true },
};

export const CREDENTIALS_PER_USER_PER_SERVICE = 2;

export interface IamUser {
  readonly userName: string;
  readonly userId: string;
  readonly arn: string;
  readonly path: string;
  readonly createDate: Date;
}

/** A credential as the emulator stores it, secret part included (for invariant checks). */
export interface StoredCredential {
  readonly id: string;
  readonly userName: string;
  readonly serviceName: string;
  /** The stored status; `status()` of the model reports Expired once past expirationDate. */
  storedStatus: 'Active' | 'Inactive';
  readonly createDate: Date;
  readonly expirationDate?: Date | undefined;
  readonly serviceUserName?: string | undefined;
  readonly serviceCredentialAlias?: string | undefined;
  /** The password (Keyspaces/CodeCommit) or API key (Bedrock/Logs) IAM last issued. */
  secret: string;
  /** Insertion order, for stable listing. */
  readonly seq: number;
}

/** What the API returns: no secret unless it comes from Create/Reset. */
export interface CredentialView {
  ServiceSpecificCredentialId: string;
  UserName: string;
  ServiceName: string;
  Status: IamCredentialStatus;
  CreateDate: Date;
  ExpirationDate?: Date | undefined;
  ServiceUserName?: string | undefined;
  ServicePassword?: string | undefined;
  ServiceCredentialAlias?: string | undefined;
  ServiceCredentialSecret?: string | undefined;
}

export interface IamModelOptions {
  readonly clock: VirtualClock;
  readonly accountId: string;
  /** The user a call without UserName acts on ("the caller"). */
  readonly callerUserName: string;
  /** Largest page List returns whatever MaxItems says (IAM may return fewer than MaxItems). */
  readonly pageSize: number;
  /** Called with every password/API key issued (feeds AwsEmulator.issuedSecrets()). */
  readonly onIssue?: ((secret: string) => void) | undefined;
}

const ID_PATTERN_MESSAGE =
  "1 validation error detected: Value at 'serviceSpecificCredentialId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+";
const STATUS_MESSAGE =
  "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set";

const noSuchUser = (u: string) =>
  new AwsApiError('NoSuchEntity', 404, `The user with name ${u} cannot be found.`);
const noSuchService = (s: string) =>
  new AwsApiError('NoSuchEntity', 404, `No such service ${s} is supported for Service Specific Credentials`);
const noSuchCredential = (id: string) =>
  new AwsApiError('NoSuchEntity', 404, `No such credential ${id} exists`);
const validation = (message: string) => new AwsApiError('ValidationError', 400, message);

function encodeMarker(index: number): string {
  return Buffer.from(`emu:${index}`).toString('base64');
}
function decodeMarker(marker: string): number {
  const text = Buffer.from(marker, 'base64').toString('utf8');
  const m = /^emu:(\d+)$/.exec(text);
  if (!m) throw new AwsApiError('InvalidInput', 400, 'Invalid Marker.');
  return Number(m[1]);
}

/** A Query request's parameters: every value a string, as on the wire. */
export type QueryParams = Readonly<Record<string, string | undefined>>;
/** A result's members, as the API names them (the wire layer turns them into XML). */
export type Params = Record<string, unknown>;

/** A missing required parameter, as IAM names it (camelCase member name). */
function required(p: QueryParams, name: string): string {
  const v = p[name];
  if (v === undefined) {
    throw validation(
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

const optNumber = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

const userView = (u: IamUser) => ({
  Path: u.path,
  UserName: u.userName,
  UserId: u.userId,
  Arn: u.arn,
  CreateDate: u.createDate,
});

export class IamModel {
  private readonly users = new Map<string, IamUser>();
  private readonly creds = new Map<string, StoredCredential>();
  /** Tags per user name (TagUser / ListUserTags), in the order they were first set. */
  private readonly userTags = new Map<string, Map<string, string>>();
  private seq = 0;
  constructor(private readonly options: IamModelOptions) {
    this.createUser(options.callerUserName);
  }

  get accountId(): string {
    return this.options.accountId;
  }
  get callerUserName(): string {
    return this.options.callerUserName;
  }

  // ---- users -------------------------------------------------------------------------

  createUser(userName: string, path = '/'): IamUser {
    if (!/^[\w+=,.@-]{1,64}$/.test(userName)) {
      throw validation(
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
      );
    }
    if (this.users.has(userName)) {
      throw new AwsApiError('EntityAlreadyExists', 409, `User with name ${userName} already exists.`);
    }
    const user: IamUser = {
      userName,
      userId: `AIDA${upperAlnum(17)}`,
      arn: `arn:aws:iam::${this.options.accountId}:user${path}${userName}`,
      path,
      createDate: new Date(Math.floor(this.options.clock.now().getTime() / 1000) * 1000),
    };
    this.users.set(userName, user);
    return user;
  }

  getUser(userName?: string): IamUser {
    const name = userName ?? this.options.callerUserName;
    const user = this.users.get(name);
    if (!user) throw noSuchUser(name);
    return user;
  }

  hasUser(userName: string): boolean {
    return this.users.has(userName);
  }

  deleteUser(userName: string): void {
    this.getUser(userName);
    if ([...this.creds.values()].some((c) => c.userName === userName)) {
      throw new AwsApiError(
        'DeleteConflict',
        409,
        'Cannot delete entity, must remove service specific credentials first.',
      );
    }
    this.users.delete(userName);
    this.userTags.delete(userName);
  }

  /** Sets tags on a user (TagUser's rules: an existing key is overwritten). */
  tagUser(userName: string, tags: Readonly<Record<string, string>>): void {
    this.getUser(userName);
    const current = this.userTags.get(userName) ?? new Map<string, string>();
    for (const [key, value] of Object.entries(tags)) current.set(key, value);
    if (current.size > 50) throw new AwsApiError('LimitExceeded', 409, 'A user can have at most 50 tags.');
    this.userTags.set(userName, current);
  }

  /** A user's tags. */
  tagsOf(userName: string): Record<string, string> {
    this.getUser(userName);
    return Object.fromEntries(this.userTags.get(userName) ?? []);
  }

  // ---- operations (API shapes) -----------------------------------------------------------
  // As the Secrets Manager model: one method per API operation, named after it, taking the
  // request's members (Query parameters are strings) and returning the result's members.

  ListServiceSpecificCredentials(p: QueryParams): Params {
    const userName = p.AllUsers === 'true' ? undefined : this.getUser(p.UserName).userName;
    if (p.ServiceName !== undefined) this.checkService(p.ServiceName);
    const all = [...this.creds.values()]
      .filter((c) => userName === undefined || c.userName === userName)
      .filter((c) => p.ServiceName === undefined || c.serviceName === p.ServiceName)
      .sort((a, b) => a.seq - b.seq)
      .map((c) => this.view(c, false));
    return this.page('ServiceSpecificCredentials', all, p);
  }

  CreateServiceSpecificCredential(p: QueryParams): Params {
    const userName = required(p, 'UserName');
    const serviceName = required(p, 'ServiceName');
    const age = optNumber(p.CredentialAgeDays);
    return { ServiceSpecificCredential: this.create(userName, serviceName, age) };
  }

  UpdateServiceSpecificCredential(p: QueryParams): Params {
    const id = required(p, 'ServiceSpecificCredentialId');
    const status = required(p, 'Status');
    const cred = this.findCredential(p.UserName, id, () => {
      if (status !== 'Active' && status !== 'Inactive') throw validation(STATUS_MESSAGE);
    });
    cred.storedStatus = status as 'Active' | 'Inactive';
    return {};
  }

  DeleteServiceSpecificCredential(p: QueryParams): Params {
    const cred = this.findCredential(p.UserName, required(p, 'ServiceSpecificCredentialId'));
    this.creds.delete(cred.id);
    return {};
  }

  ResetServiceSpecificCredential(p: QueryParams): Params {
    const cred = this.findCredential(p.UserName, required(p, 'ServiceSpecificCredentialId'));
    cred.secret = SUPPORTED_SERVICES[cred.serviceName]?.apiKey ? apiKey() : servicePassword();
    this.options.onIssue?.(cred.secret);
    return { ServiceSpecificCredential: this.view(cred, true) };
  }

  CreateUser(p: QueryParams): Params {
    return { User: userView(this.createUser(required(p, 'UserName'), p.Path ?? '/')) };
  }

  GetUser(p: QueryParams): Params {
    return { User: userView(this.getUser(p.UserName)) };
  }

  DeleteUser(p: QueryParams): Params {
    this.deleteUser(required(p, 'UserName'));
    return {};
  }

  TagUser(p: QueryParams): Params {
    const userName = required(p, 'UserName');
    const tags: Record<string, string> = {};
    // Query form: Tags.member.N.Key / Tags.member.N.Value.
    for (let n = 1; p[`Tags.member.${n}.Key`] !== undefined; n++) {
      tags[p[`Tags.member.${n}.Key`] as string] = p[`Tags.member.${n}.Value`] ?? '';
    }
    this.tagUser(userName, tags);
    return {};
  }

  UntagUser(p: QueryParams): Params {
    const userName = required(p, 'UserName');
    this.getUser(userName);
    const current = this.userTags.get(userName);
    for (let n = 1; p[`TagKeys.member.${n}`] !== undefined; n++)
      current?.delete(p[`TagKeys.member.${n}`] as string);
    return {};
  }

  ListUserTags(p: QueryParams): Params {
    const userName = required(p, 'UserName');
    const tags = Object.entries(this.tagsOf(userName)).map(([Key, Value]) => ({ Key, Value }));
    return this.page('Tags', tags, p);
  }

  ListUsers(p: QueryParams): Params {
    const all = [...this.users.values()].sort((a, b) => a.userName.localeCompare(b.userName));
    return this.page('Users', all.map(userView), p);
  }

  // ---- direct access for tests -----------------------------------------------------------

  /** Creates a credential "by hand" (same rules as the API, quota included); returns it with its secret. */
  issueCredential(userName: string, serviceName: string, credentialAgeDays?: number): CredentialView {
    return this.create(userName, serviceName, credentialAgeDays);
  }

  /** Sets a credential's stored status by id, whatever its user. */
  setStatus(id: string, status: 'Active' | 'Inactive'): void {
    const c = this.creds.get(id);
    if (!c) throw noSuchCredential(id);
    c.storedStatus = status;
  }

  /** Deletes a credential by id, whatever its user. */
  removeCredential(id: string): void {
    if (!this.creds.delete(id)) throw noSuchCredential(id);
  }

  /** Every stored credential (secret included), optionally for one user and/or service. */
  credentials(
    filter: { userName?: string; serviceName?: string } = {},
  ): Array<CredentialView & { secret: string }> {
    return [...this.creds.values()]
      .filter((c) => filter.userName === undefined || c.userName === filter.userName)
      .filter((c) => filter.serviceName === undefined || c.serviceName === filter.serviceName)
      .sort((a, b) => a.seq - b.seq)
      .map((c) => ({ ...this.view(c, true), secret: c.secret }));
  }

  /** One credential by id (secret included), or undefined. */
  credential(id: string): (CredentialView & { secret: string }) | undefined {
    const c = this.creds.get(id);
    return c && { ...this.view(c, true), secret: c.secret };
  }

  /** The status IAM reports now (Expired once past ExpirationDate). */
  status(c: StoredCredential): IamCredentialStatus {
    if (c.expirationDate && c.expirationDate.getTime() <= this.options.clock.now().getTime())
      return 'Expired';
    return c.storedStatus;
  }

  // ---- persistence -----------------------------------------------------------------------

  toJSON(): unknown {
    return {
      users: [...this.users.values()],
      credentials: [...this.creds.values()],
      seq: this.seq,
      userTags: Object.fromEntries([...this.userTags].map(([u, tags]) => [u, Object.fromEntries(tags)])),
    };
  }

  load(state: unknown): void {
    const s = state as {
      users: IamUser[];
      credentials: StoredCredential[];
      seq: number;
      userTags?: Record<string, Record<string, string>>;
    };
    this.users.clear();
    this.creds.clear();
    this.userTags.clear();
    for (const [u, tags] of Object.entries(s.userTags ?? {}))
      this.userTags.set(u, new Map(Object.entries(tags)));
    for (const u of s.users) this.users.set(u.userName, { ...u, createDate: new Date(u.createDate) });
    for (const c of s.credentials) {
      this.creds.set(c.id, {
        ...c,
        createDate: new Date(c.createDate),
        expirationDate: c.expirationDate ? new Date(c.expirationDate) : undefined,
      });
    }
    this.seq = s.seq;
  }

  // ---- internals -------------------------------------------------------------------------

  /** CreateServiceSpecificCredential's rules, in AWS's order: user, service, age, quota. */
  private create(userName: string, serviceName: string, age: number | undefined): CredentialView {
    const user = this.getUser(userName);
    const service = this.checkService(serviceName);
    if (age !== undefined) {
      if (!Number.isInteger(age) || age < 1 || age > 36_600) {
        throw validation(
          "1 validation error detected: Value at 'credentialAgeDays' failed to satisfy constraint: Member must have value between 1 and 36600",
        );
      }
      if (!service.apiKey) {
        throw new AwsApiError(
          'InvalidInput',
          400,
          `CredentialAgeDays is not supported for service ${serviceName}.`,
        );
      }
    }
    const existing = [...this.creds.values()].filter(
      (c) => c.userName === user.userName && c.serviceName === serviceName,
    );
    if (existing.length >= CREDENTIALS_PER_USER_PER_SERVICE) {
      throw new AwsApiError(
        'LimitExceeded',
        409,
        `Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: ${CREDENTIALS_PER_USER_PER_SERVICE}`,
      );
    }
    // IAM reports dates to the second.
    const now = new Date(Math.floor(this.options.clock.now().getTime() / 1000) * 1000);
    const cred: StoredCredential = {
      id: `ACCA${upperAlnum(17)}`,
      userName: user.userName,
      serviceName: serviceName,
      storedStatus: 'Active',
      createDate: now,
      expirationDate: age === undefined ? undefined : new Date(now.getTime() + age * 86_400_000),
      ...(service.apiKey
        ? {
            serviceCredentialAlias: `${user.userName}+${alnum(4).toLowerCase()}-at-${this.options.accountId}`,
          }
        : { serviceUserName: this.freeServiceUserName(user.userName, existing) }),
      secret: service.apiKey ? apiKey() : servicePassword(),
      seq: this.seq++,
    };
    this.creds.set(cred.id, cred);
    this.options.onIssue?.(cred.secret);
    return this.view(cred, true);
  }

  private checkService(serviceName: string): { apiKey: boolean } {
    const service = SUPPORTED_SERVICES[serviceName];
    if (!service) throw noSuchService(serviceName);
    return service;
  }

  /** Checks in AWS's order: user, id format, `extra` (e.g. Status), then existence. */
  private findCredential(userName: string | undefined, id: string, extra?: () => void): StoredCredential {
    const user = this.getUser(userName);
    if (!/^\w+$/.test(id)) throw validation(ID_PATTERN_MESSAGE);
    if (id.length < 20 || id.length > 128) {
      throw validation(
        `1 validation error detected: Value at 'serviceSpecificCredentialId' failed to satisfy constraint: Member must have length ${id.length < 20 ? 'greater than or equal to 20' : 'less than or equal to 128'}`,
      );
    }
    extra?.();
    const cred = this.creds.get(id);
    if (!cred || cred.userName !== user.userName) throw noSuchCredential(id);
    return cred;
  }

  /** `<user>-at-<account>`, or `<user>+1-at-<account>` while the first one is taken. */
  private freeServiceUserName(userName: string, existing: StoredCredential[]): string {
    const taken = new Set(existing.map((c) => c.serviceUserName));
    for (let i = 0; ; i++) {
      const name = `${userName}${i === 0 ? '' : `+${i}`}-at-${this.options.accountId}`;
      if (!taken.has(name)) return name;
    }
  }

  private view(c: StoredCredential, withSecret: boolean): CredentialView {
    const apiKeyKind = c.serviceCredentialAlias !== undefined;
    return {
      ServiceSpecificCredentialId: c.id,
      UserName: c.userName,
      ServiceName: c.serviceName,
      Status: this.status(c),
      CreateDate: c.createDate,
      ExpirationDate: c.expirationDate,
      ServiceUserName: c.serviceUserName,
      ServiceCredentialAlias: c.serviceCredentialAlias,
      ServicePassword: withSecret && !apiKeyKind ? c.secret : undefined,
      ServiceCredentialSecret: withSecret && apiKeyKind ? c.secret : undefined,
    };
  }

  /** One page of `all` as IAM answers a List: the list under `member`, IsTruncated, Marker. */
  private page(member: string, all: unknown[], p: QueryParams): Params {
    const maxItems = optNumber(p.MaxItems);
    if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000)) {
      throw validation(
        "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000",
      );
    }
    const start = p.Marker === undefined ? 0 : decodeMarker(p.Marker);
    const size = Math.min(maxItems ?? 100, this.options.pageSize);
    const items = all.slice(start, start + size);
    const next = start + items.length;
    const isTruncated = next < all.length;
    return {
      [member]: items,
      IsTruncated: isTruncated,
      Marker: isTruncated ? encodeMarker(next) : undefined,
    };
  }
}
