// One HTTPS server for the HTTP-based service edges, judged by the CredentialAuthority:
// - CodeCommit Git: `GET /v1/repos/<repo>/info/refs?service=git-upload-pack`, Basic auth
//   (200 with a ref advertisement; 403 for a refused password, as CodeCommit answers).
// - Bedrock: `GET /foundation-models`, Bearer API key.
// - CloudWatch Logs: `POST /ingest/json` (structured JSON ingestion), Bearer API key, group and
//   stream in `x-aws-log-group`/`x-aws-log-stream`.
// Refusals answer like AWS: an unknown key 403 (Bedrock) or 401 (Logs) without "is not
// authorized to perform"; a `deny` fault 403 AccessDeniedException naming the principal.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CredentialAuthority, EdgeService } from './authority.ts';
import type { TlsIdentity } from './tls.ts';

export interface HttpsEdgeOptions {
  readonly authority: CredentialAuthority;
  readonly tls: TlsIdentity;
  readonly accountId?: string;
  /** Repositories that exist; others answer 404. @default every name exists */
  readonly repositories?: readonly string[];
  /** Log groups that exist; others answer ResourceNotFoundException. @default every name exists */
  readonly logGroups?: readonly string[];
  /** Delay per connection before its first answer (edges/latency.ts). @default none */
  readonly handshakeLatencyMs?: (() => number) | undefined;
}

export interface HttpsEdge {
  /** `https://127.0.0.1:<port>`: the base URL of every HTTP service edge. */
  readonly url: string;
  /** Log events accepted by the Logs edge. */
  readonly logEvents: ReadonlyArray<{ readonly logGroupName: string; readonly message: string }>;
  close(): Promise<void>;
}

export async function startHttpsEdge(
  options: HttpsEdgeOptions,
  listen: { host?: string; port?: number } = {},
): Promise<HttpsEdge> {
  const logEvents: Array<{ logGroupName: string; message: string }> = [];
  const sockets = new Set<Socket>();
  const account = options.accountId ?? '123456789012';

  const json = (res: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(JSON.stringify(body));
  };

  const bearer = (req: IncomingMessage): string | undefined =>
    /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

  /** Runs a bearer-key operation: refuses unknown keys, applies a deny fault, else `ok()`. */
  const withBearer = (
    req: IncomingMessage,
    res: ServerResponse,
    service: EdgeService,
    action: string,
    ok: () => void,
    refusedStatus = 403,
  ): void => {
    const key = bearer(req);
    const fault = options.authority.fault(service);
    const verdict =
      key === undefined || fault === 'reject' ? undefined : options.authority.check(service, key);
    if (!verdict?.accepted) {
      json(
        res,
        refusedStatus,
        { message: 'The security token included in the request is invalid.' },
        'UnrecognizedClientException',
      );
      return;
    }
    if (fault === 'deny') {
      json(
        res,
        403,
        {
          message: `User: arn:aws:iam::${account}:user/${verdict.userName} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
        },
        'AccessDeniedException',
      );
      return;
    }
    ok();
  };

  const routes = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://edge');
    const repo = /^\/v1\/repos\/([^/]+)\/info\/refs$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && repo !== undefined) {
      if (options.authority.fault('codecommit.amazonaws.com') === 'drop') return void req.socket.destroy();
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (basic === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git-codecommit"' });
        return void res.end();
      }
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const fault = options.authority.fault('codecommit.amazonaws.com');
      const verdict =
        fault === 'reject' || colon < 0
          ? undefined
          : options.authority.check(
              'codecommit.amazonaws.com',
              decoded.slice(colon + 1),
              decoded.slice(0, colon),
            );
      // CodeCommit answers 403 for a wrong password and for a missing permission alike.
      if (!verdict?.accepted || fault === 'deny') {
        res.writeHead(403);
        return void res.end();
      }
      const name = decodeURIComponent(repo);
      if (options.repositories && !options.repositories.includes(name)) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
      return void res.end('001e# service=git-upload-pack\n0000');
    }
    if (req.method === 'GET' && url.pathname === '/foundation-models') {
      if (options.authority.fault('bedrock.amazonaws.com') === 'drop') return void req.socket.destroy();
      return withBearer(req, res, 'bedrock.amazonaws.com', 'bedrock:ListFoundationModels', () =>
        json(res, 200, { modelSummaries: [] }),
      );
    }
    if (req.method === 'POST' && url.pathname === '/ingest/json') {
      if (options.authority.fault('logs.amazonaws.com') === 'drop') return void req.socket.destroy();
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as
        | { message?: string }
        | Array<{ message?: string }>;
      const group = String(req.headers['x-aws-log-group'] ?? '');
      const stream = String(req.headers['x-aws-log-stream'] ?? '');
      return withBearer(
        req,
        res,
        'logs.amazonaws.com',
        'logs:PutLogEvents',
        () => {
          if (!group || !stream) {
            return json(
              res,
              400,
              { message: 'Both log group and log stream are required.' },
              'ValidationException',
            );
          }
          if (options.logGroups && !options.logGroups.includes(group)) {
            return json(
              res,
              400,
              { message: 'The specified log group does not exist.' },
              'ResourceNotFoundException',
            );
          }
          for (const e of Array.isArray(body) ? body : [body]) {
            logEvents.push({ logGroupName: group, message: e.message ?? '' });
          }
          json(res, 200, {});
        },
        401,
      );
    }
    json(
      res,
      404,
      { message: `No emulated edge for ${req.method} ${url.pathname}` },
      'UnknownOperationException',
    );
  };

  // Connections that have had their handshake delay (a kept-alive one pays it once).
  const delayed = new WeakSet<Socket>();
  const handshake = async (socket: Socket): Promise<void> => {
    if (delayed.has(socket)) return;
    delayed.add(socket);
    const delay = options.handshakeLatencyMs?.() ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  };
  const server: Server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    handshake(req.socket)
      .then(() => routes(req, res))
      .catch(() => req.socket.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `https://${address.address}:${address.port}`,
    logEvents,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
