// AwsEmulator: one model of IAM (service-specific credentials) and Secrets Manager, served
// to the real SDK v3 clients either in-process (a Smithy request handler, no sockets) or over
// HTTP on loopback. Routing: `X-Amz-Target: secretsmanager.<Op>` is Secrets Manager (JSON
// 1.1), a form body with `Action=` is IAM (Query/XML), or CloudFormation when its `Version=`
// is CloudFormation's (2010-05-15; a fake stack's resources only). Signatures are not checked.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { VirtualClock } from './clock.ts';
import { AwsApiError } from './errors.ts';
import { findOperation, isWriteOperation, unknownOperation } from './catalogue.ts';
import { crashError, Faults, type RateLimits, type Service, throttlingError } from './faults.ts';
import { IamModel } from './iam.ts';
import {
  type RotationInvoker,
  type RotationRecord,
  Rotations,
  type ThrottledStepRetry,
} from './rotations.ts';
import { type ManualUpdateRotation, SecretsModel } from './secrets.ts';
import { StacksModel } from './stacks.ts';
import {
  CLOUDFORMATION_NAMESPACE,
  CLOUDFORMATION_VERSION,
  iamError,
  iamResponse,
  jsonError,
  jsonResponse,
  type WireResponse,
} from './wire.ts';

export interface AwsEmulatorOptions {
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Region used in secret ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** The IAM user a call without UserName acts on. @default 'emulator-admin' */
  readonly callerUserName?: string;
  /** Largest page ListServiceSpecificCredentials/ListUsers return (whatever MaxItems). @default 1 */
  readonly iamPageSize?: number;
  /** Largest page ListSecrets/BatchGetSecretValue/ListSecretVersionIds return. @default 100 */
  readonly secretsPageSize?: number;
  /** Fixed delay per call, real time. @default 0 */
  readonly latencyMs?: number;
  readonly rateLimits?: RateLimits;
  /** Called after every successful mutating call (the standalone server persists state). */
  readonly onMutation?: () => void;
  /** Runs a rotation step (the rotation function); settable later as `rotations.invoker`. */
  readonly rotationInvoker?: RotationInvoker;
  /** 'async' (default, as AWS): RotateSecret answers before the steps run; 'sync': after. */
  readonly rotationMode?: 'async' | 'sync';
  /**
   * The rotation function's reserved concurrency: a step invoked while that many invocations
   * are in flight (`rotations.occupy()`) is throttled. @default no limit
   */
  readonly reservedConcurrency?: number;
  /** Whether Secrets Manager retries a rotation whose step was throttled. @default 'none' */
  readonly throttledStepRetry?: ThrottledStepRetry;
  /** Which manual value updates move the next rotation date. @default 'current' */
  readonly manualUpdateRotation?: ManualUpdateRotation;
}

export interface WireRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface HandledResponse extends WireResponse {
  /** The effect was applied but the response must be lost (socket destroyed / network error). */
  readonly lost?: boolean;
}

export interface CallRecord {
  readonly service: Service | 'unknown';
  readonly operation: string;
  /** Request parameters without SecretString/SecretBinary. */
  readonly params: Readonly<Record<string, unknown>>;
  /** 'OK' or the error code answered. */
  readonly outcome: string;
  readonly status: number;
  /** The fault that hit this call, if any. */
  readonly fault?: string | undefined;
  /** Real time of the call. */
  readonly at: Date;
}

/** The Smithy HttpHandler shape the SDK clients accept as `requestHandler`. */
export interface InProcessRequestHandler {
  handle(request: {
    method: string;
    path: string;
    query?: Record<string, string | string[] | null>;
    headers: Record<string, string>;
    body?: unknown;
  }): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Readable } }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

const SECRET_PARAMS = new Set(['SecretString', 'SecretBinary']);

/** The error the SDK sees for a lost response in-process: a connection reset, which it retries. */
export function lostResponseError(): Error {
  return Object.assign(new Error('socket hang up (emulated lost response)'), { code: 'ECONNRESET' });
}

async function bodyToString(body: unknown): Promise<string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  // The SDK's JSON body is a Uint8Array subclass that warns on string methods: decode its bytes.
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (body instanceof Readable || (typeof body === 'object' && Symbol.asyncIterator in body)) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  return String(body);
}

/** Whether a logged call changed state. */
export const isWriteCall = (call: Pick<CallRecord, 'service' | 'operation'>): boolean =>
  isWriteOperation(call.service, call.operation);

export class AwsEmulator {
  readonly clock = new VirtualClock();
  readonly iam: IamModel;
  readonly secrets: SecretsModel;
  /** CloudFormation: the fake stacks whose resources DescribeStackResource(s) answer. */
  readonly stacks: StacksModel;
  readonly faults = new Faults();
  /** Secrets Manager's rotation runner: invoker, mode, settled(), history, retries. */
  readonly rotations: Rotations;
  readonly accountId: string;
  readonly region: string;
  private readonly callLog: CallRecord[] = [];
  private readonly issued: string[] = [];
  private readonly issueListeners = new Set<(secret: string) => void>();
  private readonly onMutation: (() => void) | undefined;

  constructor(options: AwsEmulatorOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.onMutation = options.onMutation;
    this.iam = new IamModel({
      clock: this.clock,
      accountId: this.accountId,
      callerUserName: options.callerUserName ?? 'emulator-admin',
      pageSize: options.iamPageSize ?? 1,
      onIssue: (secret) => {
        this.issued.push(secret);
        for (const listener of this.issueListeners) listener(secret);
      },
    });
    this.secrets = new SecretsModel({
      clock: this.clock,
      region: this.region,
      accountId: this.accountId,
      pageSize: options.secretsPageSize ?? 100,
      onRotationStart: (start) => void this.rotations.start(start),
    });
    this.stacks = new StacksModel({ clock: this.clock, region: this.region, accountId: this.accountId });
    this.rotations = new Rotations(this.secrets, this.faults, () => this.onMutation?.());
    this.rotations.invoker = options.rotationInvoker;
    this.rotations.mode = options.rotationMode ?? 'async';
    this.rotations.reservedConcurrency = options.reservedConcurrency;
    this.rotations.throttledStepRetry = options.throttledStepRetry ?? 'none';
    this.secrets.manualUpdateRotation = options.manualUpdateRotation ?? 'current';
    this.faults.latencyMs = options.latencyMs ?? 0;
    if (options.rateLimits) this.faults.setRateLimits(options.rateLimits);
  }

  /** Every call answered (or lost), oldest first. */
  get calls(): readonly CallRecord[] {
    return this.callLog;
  }

  clearCalls(): void {
    this.callLog.length = 0;
  }

  /** Calls of one operation (convenience for assertions). */
  callsOf(operation: string): CallRecord[] {
    return this.callLog.filter((c) => c.operation === operation);
  }

  /** Every password and API key IAM ever issued here (Create and Reset), for leak scans. */
  issuedSecrets(): readonly string[] {
    return [...this.issued];
  }

  /** Calls `listener` with every password/API key IAM issues from now on; returns the unsubscribe. */
  onSecretIssued(listener: (secret: string) => void): () => void {
    this.issueListeners.add(listener);
    return () => this.issueListeners.delete(listener);
  }

  /** Secrets Manager's own schedule: rotates every secret due on the virtual clock; resolves when done. */
  runScheduledRotations(): Promise<RotationRecord[]> {
    return this.rotations.runScheduledRotations();
  }

  /** Secrets Manager's retry of unfinished rotations (same token, four steps); resolves when done. */
  retryPendingRotations(): Promise<RotationRecord[]> {
    return this.rotations.retryPendingRotations();
  }

  /** The wire dispatcher: one HTTP request in, one response (or a lost one) out. */
  async handle(request: WireRequest): Promise<HandledResponse> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    }
    const requestId = randomUUID();
    const target = headers['x-amz-target'];
    let service: Service | 'unknown' = 'unknown';
    let operation = 'unknown';
    let params: Record<string, unknown> = {};
    try {
      if (target?.startsWith('secretsmanager.')) {
        service = 'secretsmanager';
        operation = target.slice('secretsmanager.'.length);
        params = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
      } else {
        const form = new URLSearchParams(request.body);
        const action = form.get('Action');
        if (action === null) {
          const response = this.withDate(
            iamError(new AwsApiError('MissingAction', 400, 'Missing Action'), requestId),
            requestId,
          );
          this.record(service, operation, params, response.status, 'MissingAction');
          return response;
        }
        service = form.get('Version') === CLOUDFORMATION_VERSION ? 'cloudformation' : 'iam';
        operation = action;
        params = Object.fromEntries([...form.entries()].filter(([k]) => k !== 'Action' && k !== 'Version'));
      }
    } catch {
      const e = new AwsApiError('SerializationException', 400, 'Malformed request body.');
      return this.withDate(jsonError(e), requestId);
    }
    const answer = async (): Promise<HandledResponse> => {
      if (this.faults.crashed) throw crashError();
      if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
      if (this.faults.crashed) throw crashError();
      const access = findOperation(service, operation)?.access ?? 'read';
      if (this.faults.rateLimited(service as Service, access)) throw throttlingError(service as Service);
      const fault = this.faults.take(operation, params);
      if (fault?.kind === 'fail') {
        throw fault.error
          ? new AwsApiError(fault.error.code, fault.error.status, fault.error.message ?? fault.error.code)
          : service === 'iam'
            ? new AwsApiError('InternalFailure', 500, 'An internal error occurred.')
            : new AwsApiError('InternalServiceError', 500, 'An error occurred on the server side.');
      }
      if (fault?.kind === 'throttle') throw throttlingError(service as Service);
      const response = this.apply(service as Service, operation, params, requestId);
      if (isWriteOperation(service, operation)) this.onMutation?.();
      // In sync mode a RotateSecret answers once the steps it started have run.
      if (operation === 'RotateSecret' && this.rotations.mode === 'sync') await this.rotations.settled();
      if (fault?.kind === 'lose-response') {
        this.record(service, operation, params, response.status, 'OK', 'lose-response');
        return { ...response, lost: true };
      }
      if (fault?.kind === 'crash-after') {
        this.faults.crash();
        const crash = crashError();
        this.record(service, operation, params, crash.status, crash.code, 'crash-after');
        return this.errorResponse(service, crash, requestId);
      }
      this.record(service, operation, params, response.status, 'OK');
      return response;
    };
    try {
      return this.withDate(await answer(), requestId);
    } catch (e) {
      if (!(e instanceof AwsApiError)) throw e;
      this.record(service, operation, params, e.status, e.code);
      return this.withDate(this.errorResponse(service, e, requestId), requestId);
    }
  }

  /** A Smithy HttpHandler for `new IAMClient({ requestHandler: emulator.requestHandler() })`. */
  requestHandler(): InProcessRequestHandler {
    return {
      handle: async (request) => {
        const response = await this.handle({
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: await bodyToString(request.body),
        });
        if (response.lost) throw lostResponseError();
        return {
          response: {
            statusCode: response.status,
            headers: response.headers,
            body: Readable.from([Buffer.from(response.body, 'utf8')]),
          },
        };
      },
      updateHttpClientConfig: () => {},
      httpHandlerConfigs: () => ({}),
      destroy: () => {},
    };
  }

  /** Serves the emulator over HTTP. Use the returned url as the clients' `endpoint`. */
  async listen(options: { port?: number; host?: string } = {}): Promise<{
    url: string;
    port: number;
    close: () => Promise<void>;
  }> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer((req, res) => {
      void this.serve(req, res);
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

  /** Everything needed to restore the emulator's state (clock offset, IAM, secrets). */
  snapshot(): unknown {
    return {
      clockOffsetMs: this.clock.offset,
      iam: this.iam.toJSON(),
      secrets: this.secrets.toJSON(),
      stacks: this.stacks.toJSON(),
      issued: this.issued,
    };
  }

  restore(state: unknown): void {
    const s = state as {
      clockOffsetMs: number;
      iam: unknown;
      secrets: unknown;
      stacks?: unknown;
      issued?: string[];
    };
    this.clock.offset = s.clockOffsetMs;
    this.iam.load(s.iam);
    this.secrets.load(s.secrets);
    this.stacks.load(s.stacks);
    this.issued.splice(0, this.issued.length, ...(s.issued ?? []));
  }

  // ---- internals -------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
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

  private apply(service: Service, operation: string, params: Record<string, unknown>, requestId: string) {
    const op = findOperation(service, operation);
    if (!op) throw unknownOperation(service, operation);
    const result = op.handler(this, params);
    if (service === 'secretsmanager') return jsonResponse(result);
    return iamResponse(
      operation,
      result,
      requestId,
      service === 'cloudformation' ? CLOUDFORMATION_NAMESPACE : undefined,
    );
  }

  /** An error in the service's own protocol (Query XML for IAM and CloudFormation). */
  private errorResponse(service: Service | 'unknown', e: AwsApiError, requestId: string): WireResponse {
    if (service === 'cloudformation') return iamError(e, requestId, CLOUDFORMATION_NAMESPACE);
    return service === 'iam' ? iamError(e, requestId) : jsonError(e);
  }

  /** The real wall-clock time: the SDK corrects its clock skew from this header. */
  private withDate(response: HandledResponse, requestId: string): HandledResponse {
    return {
      ...response,
      headers: {
        ...response.headers,
        date: new Date().toUTCString(),
        'x-amzn-requestid': requestId,
      },
    };
  }

  private record(
    service: Service | 'unknown',
    operation: string,
    params: Record<string, unknown>,
    status: number,
    outcome: string,
    fault?: string,
  ): void {
    const safe = Object.fromEntries(Object.entries(params).filter(([k]) => !SECRET_PARAMS.has(k)));
    this.callLog.push({ service, operation, params: safe, outcome, status, fault, at: new Date() });
  }
}
