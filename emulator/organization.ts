// Several AWS accounts behind one endpoint, for the organization demo and tests: one
// AwsEmulator per account (its own IAM users and credentials, secrets, clock, faults and rate
// limits), selected by the access key id the request is signed with, as AWS does (SigV4's
// `Authorization: AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request`).
// Signatures are not checked, as in AwsEmulator; an unknown key is refused the way each
// service refuses one, so a client wired to the wrong account fails rather than writes
// elsewhere. Each account answers on its own, so one throttled account slows none of the others.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AwsEmulator,
  type AwsEmulatorOptions,
  type HandledResponse,
  type InProcessRequestHandler,
  type WireRequest,
} from './emulator.ts';
import { AwsApiError } from './errors.ts';
import { iamError, jsonError } from './wire.ts';

export interface MemberAccount {
  /** 12 digits. */
  readonly accountId: string;
  /** The access key id whose requests this account answers (AKIA/ASIA... or any test key). */
  readonly accessKeyId: string;
  /** A name for tables and logs (e.g. the account's alias). @default the account id */
  readonly name?: string | undefined;
  /** Options of this account's emulator (page sizes, rate limits, latency...). */
  readonly options?: Omit<AwsEmulatorOptions, 'accountId'> | undefined;
}

/** The access key id a SigV4-signed request names, or undefined when it is not signed. */
export function accessKeyIdOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const raw = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  return value ? /Credential=([^/,\s]+)\//.exec(value)?.[1] : undefined;
}

const ACCOUNT_ID = /^\d{12}$/;

export class OrganizationEmulator {
  readonly #byAccount = new Map<string, AwsEmulator>();
  readonly #byKey = new Map<string, string>();
  readonly #names = new Map<string, string>();

  constructor(accounts: readonly MemberAccount[]) {
    if (accounts.length === 0) throw new Error('an organization needs at least one account, got none');
    for (const a of accounts) this.addAccount(a);
  }

  /** Adds an account (an account joining the organization); returns its emulator. */
  addAccount(account: MemberAccount): AwsEmulator {
    if (!ACCOUNT_ID.test(account.accountId)) {
      throw new Error(`account id must be 12 digits, got ${JSON.stringify(account.accountId)}`);
    }
    if (this.#byAccount.has(account.accountId))
      throw new Error(`account ${account.accountId} is already in the organization`);
    if (!account.accessKeyId || this.#byKey.has(account.accessKeyId)) {
      throw new Error(
        `access key id ${JSON.stringify(account.accessKeyId)} is empty or already names another account`,
      );
    }
    const emulator = new AwsEmulator({ ...account.options, accountId: account.accountId });
    this.#byAccount.set(account.accountId, emulator);
    this.#byKey.set(account.accessKeyId, account.accountId);
    this.#names.set(account.accountId, account.name ?? account.accountId);
    return emulator;
  }

  /** Account ids, in the order they joined. */
  get accountIds(): readonly string[] {
    return [...this.#byAccount.keys()];
  }

  /** The emulator of one account; throws for an account that is not in the organization. */
  account(accountId: string): AwsEmulator {
    const found = this.#byAccount.get(accountId);
    if (!found)
      throw new Error(`account ${accountId} is not in the organization (${this.accountIds.join(', ')})`);
    return found;
  }

  nameOf(accountId: string): string {
    return this.#names.get(accountId) ?? accountId;
  }

  /** The account a request is for, by its access key id; undefined when no account has that key. */
  accountOf(request: Pick<WireRequest, 'headers'>): string | undefined {
    const key = accessKeyIdOf(request.headers);
    return key === undefined ? undefined : this.#byKey.get(key);
  }

  /** One request to the account its key names, or the service's answer to an unknown key. */
  async handle(request: WireRequest): Promise<HandledResponse> {
    const accountId = this.accountOf(request);
    if (accountId !== undefined) return this.account(accountId).handle(request);
    return unknownKey(request);
  }

  /** A Smithy request handler for in-process clients: each request goes to its key's account. */
  requestHandler(): InProcessRequestHandler {
    const handlers = new Map<string, InProcessRequestHandler>();
    return {
      handle: async (request) => {
        const accountId = this.accountOf({ headers: request.headers });
        if (accountId === undefined) {
          // The in-process handlers decode the body; an unknown key needs only the headers.
          const refused = unknownKey({
            method: request.method,
            path: request.path,
            headers: request.headers,
            body: '',
          });
          return {
            response: {
              statusCode: refused.status,
              headers: refused.headers,
              body: Readable.from([Buffer.from(refused.body, 'utf8')]),
            },
          };
        }
        let handler = handlers.get(accountId);
        if (!handler) {
          handler = this.account(accountId).requestHandler();
          handlers.set(accountId, handler);
        }
        return handler.handle(request);
      },
      updateHttpClientConfig: () => {},
      httpHandlerConfigs: () => ({}),
      destroy: () => {},
    };
  }

  /** Serves every account on one loopback port. */
  async listen(options: { port?: number; host?: string } = {}): Promise<{
    url: string;
    port: number;
    close: () => Promise<void>;
  }> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer((req, res) => {
      void this.#serve(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return {
      url: `http://${host}:${port}`,
      port,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const response = await this.handle({
        method: req.method ?? 'POST',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (response.lost) {
        req.socket.destroy();
        return;
      }
      res.writeHead(response.status, {
        ...response.headers,
        'content-length': Buffer.byteLength(response.body).toString(),
      });
      res.end(response.body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  }
}

/** What IAM and Secrets Manager answer to a request signed with a key they do not know. */
function unknownKey(request: WireRequest): HandledResponse {
  const requestId = randomUUID();
  const target = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1];
  const headers = { date: new Date().toUTCString(), 'x-amzn-requestid': requestId };
  const key = accessKeyIdOf(request.headers);
  if (String(target ?? '').startsWith('secretsmanager.')) {
    const e = new AwsApiError(
      'UnrecognizedClientException',
      400,
      'The security token included in the request is invalid.',
    );
    const response = jsonError(e);
    return { ...response, headers: { ...response.headers, ...headers } };
  }
  const e = new AwsApiError(
    'InvalidClientTokenId',
    403,
    key === undefined
      ? 'The request is not signed: no account to answer it.'
      : 'The security token included in the request is invalid.',
  );
  const response = iamError(e, requestId);
  return { ...response, headers: { ...response.headers, ...headers } };
}
