// A TLS endpoint speaking the CQL native protocol (v4, like Amazon Keyspaces) far enough for
// the real cassandra-driver: OPTIONS/SUPPORTED, STARTUP -> AUTHENTICATE (PasswordAuthenticator),
// AUTH_RESPONSE -> AUTH_SUCCESS or error 0x0100, REGISTER -> READY, and QUERY on system.local
// and system.peers (the control connection's and the probe's), other system tables empty.
// Other protocol versions get the "Invalid or unsupported protocol version" error the driver
// downgrades on. Credentials are judged by the CredentialAuthority (IAM's state).
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { CredentialAuthority } from './authority.ts';
import type { TlsIdentity } from './tls.ts';

const SERVICE = 'cassandra.amazonaws.com';

const OP = {
  ERROR: 0x00,
  STARTUP: 0x01,
  READY: 0x02,
  AUTHENTICATE: 0x03,
  OPTIONS: 0x05,
  SUPPORTED: 0x06,
  QUERY: 0x07,
  RESULT: 0x08,
  REGISTER: 0x0b,
  AUTH_RESPONSE: 0x0f,
  AUTH_SUCCESS: 0x10,
} as const;

export const CQL_ERROR = {
  SERVER: 0x0000,
  PROTOCOL: 0x000a,
  BAD_CREDENTIALS: 0x0100,
  UNAUTHORIZED: 0x2100,
  INVALID: 0x2200,
} as const;

const VERSION = 4;
const HEADER_BYTES = 9;

// ---- encoding ---------------------------------------------------------------------------

const int = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const short = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const string = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([short(b.length), b]);
};
const bytes = (b: Buffer | null): Buffer => (b === null ? int(-1) : Buffer.concat([int(b.length), b]));

type CqlType = 'varchar' | 'uuid' | 'inet' | 'set<varchar>';
const TYPE_OPTION: Record<CqlType, Buffer> = {
  varchar: short(0x000d),
  uuid: short(0x000c),
  inet: short(0x0010),
  'set<varchar>': Buffer.concat([short(0x0022), short(0x000d)]),
};
type Cell = string | string[] | null;

function encodeCell(type: CqlType, value: Cell): Buffer {
  if (value === null) return bytes(null);
  switch (type) {
    case 'varchar':
      return bytes(Buffer.from(value as string, 'utf8'));
    case 'uuid':
      return bytes(Buffer.from((value as string).replace(/-/g, ''), 'hex'));
    case 'inet':
      return bytes(Buffer.from((value as string).split('.').map(Number)));
    case 'set<varchar>': {
      const items = value as string[];
      return bytes(Buffer.concat([int(items.length), ...items.map((s) => bytes(Buffer.from(s, 'utf8')))]));
    }
  }
}

interface Table {
  readonly columns: ReadonlyArray<readonly [string, CqlType]>;
  readonly rows: ReadonlyArray<Readonly<Record<string, Cell>>>;
}

function rowsResult(keyspace: string, table: string, spec: Table, selected: string[] | '*'): Buffer {
  const columns = selected === '*' ? spec.columns : spec.columns.filter(([c]) => selected.includes(c));
  return Buffer.concat([
    int(0x0002), // kind: Rows
    int(0x0001), // flags: global table spec
    int(columns.length),
    string(keyspace),
    string(table),
    ...columns.flatMap(([name, type]) => [string(name), TYPE_OPTION[type]]),
    int(spec.rows.length),
    ...spec.rows.flatMap((row) => columns.map(([name, type]) => encodeCell(type, row[name] ?? null))),
  ]);
}

// ---- the server -------------------------------------------------------------------------

export interface CqlEdgeOptions {
  readonly authority: CredentialAuthority;
  readonly tls: TlsIdentity;
  /** Reported as system.local's data_center (Keyspaces: the region). @default 'us-east-1' */
  readonly dataCenter?: string;
  readonly accountId?: string;
  /** Delay per connection before the first answer (edges/latency.ts). @default none */
  readonly handshakeLatencyMs?: (() => number) | undefined;
}

export interface CqlEdge {
  readonly host: string;
  readonly port: number;
  /** Every AUTH_RESPONSE answered, oldest first (user name and verdict; never the password). */
  readonly authAttempts: ReadonlyArray<{ readonly userName: string; readonly accepted: boolean }>;
  /** The protocol version of every STARTUP received, oldest first (shows the driver's negotiation). */
  readonly startupVersions: readonly number[];
  close(): Promise<void>;
}

export async function startCqlEdge(
  options: CqlEdgeOptions,
  listen: { host?: string; port?: number } = {},
): Promise<CqlEdge> {
  const authAttempts: Array<{ userName: string; accepted: boolean }> = [];
  const startupVersions: number[] = [];
  const hostId = randomUUID();
  const schemaVersion = randomUUID();
  const local = (address: string): Table => ({
    columns: [
      ['key', 'varchar'],
      ['bootstrapped', 'varchar'],
      ['broadcast_address', 'inet'],
      ['cluster_name', 'varchar'],
      ['cql_version', 'varchar'],
      ['data_center', 'varchar'],
      ['host_id', 'uuid'],
      ['listen_address', 'inet'],
      ['native_protocol_version', 'varchar'],
      ['partitioner', 'varchar'],
      ['rack', 'varchar'],
      ['release_version', 'varchar'],
      ['rpc_address', 'inet'],
      ['schema_version', 'uuid'],
      ['tokens', 'set<varchar>'],
    ],
    rows: [
      {
        key: 'local',
        bootstrapped: 'COMPLETED',
        broadcast_address: address,
        cluster_name: 'Amazon Keyspaces (emulated)',
        cql_version: '3.4.4',
        data_center: options.dataCenter ?? 'us-east-1',
        host_id: hostId,
        listen_address: address,
        native_protocol_version: String(VERSION),
        partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
        rack: 'rack1',
        release_version: '3.11.2',
        rpc_address: address,
        schema_version: schemaVersion,
        tokens: ['0'],
      },
    ],
  });
  const peers: Table = {
    columns: [
      ['peer', 'inet'],
      ['data_center', 'varchar'],
      ['host_id', 'uuid'],
      ['rack', 'varchar'],
      ['release_version', 'varchar'],
      ['rpc_address', 'inet'],
      ['schema_version', 'uuid'],
      ['tokens', 'set<varchar>'],
    ],
    rows: [],
  };

  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ key: options.tls.key, cert: options.tls.cert }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const delay = options.handshakeLatencyMs?.() ?? 0;
    if (delay <= 0) {
      serveConnection(socket);
      return;
    }
    // Without a 'data' listener yet the socket buffers what the client sends meanwhile.
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => serveConnection(socket), delay);
    socket.on('close', () => clearTimeout(timer));
  });
  // A `drop` fault cuts the TCP connection before TLS, as a blocked network path would.
  server.on('connection', (raw: Socket) => {
    if (options.authority.fault(SERVICE) === 'drop') raw.destroy();
  });

  function serveConnection(socket: TLSSocket): void {
    let pending = Buffer.alloc(0);
    let userName: string | undefined;
    let authenticated = false;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= HEADER_BYTES) {
        const length = pending.readInt32BE(5);
        if (pending.length < HEADER_BYTES + length) return;
        const version = pending.readUInt8(0) & 0x7f;
        const stream = pending.readInt16BE(2);
        const opcode = pending.readUInt8(4);
        const body = pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
        pending = pending.subarray(HEADER_BYTES + length);
        if (opcode === OP.STARTUP) startupVersions.push(version);
        if (options.authority.fault(SERVICE) === 'drop') {
          socket.destroy();
          return;
        }
        if (version !== VERSION && version !== 3) {
          send(
            stream,
            OP.ERROR,
            error(
              CQL_ERROR.PROTOCOL,
              `Invalid or unsupported protocol version (${version}); supported versions are (3/v3, 4/v4)`,
            ),
          );
          continue;
        }
        send(stream, ...reply(opcode, body));
      }
    });

    function send(stream: number, opcode: number, body: Buffer): void {
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt8(0x80 | VERSION, 0);
      header.writeUInt8(0, 1);
      header.writeInt16BE(stream, 2);
      header.writeUInt8(opcode, 4);
      header.writeInt32BE(body.length, 5);
      socket.write(Buffer.concat([header, body]));
    }

    /** The reply to one request frame: opcode and body. */
    function reply(opcode: number, body: Buffer): [number, Buffer] {
      switch (opcode) {
        case OP.OPTIONS:
          // string multimap: CQL_VERSION -> [3.4.4], COMPRESSION -> []
          return [
            OP.SUPPORTED,
            Buffer.concat([
              short(2),
              string('CQL_VERSION'),
              short(1),
              string('3.4.4'),
              string('COMPRESSION'),
              short(0),
            ]),
          ];
        case OP.STARTUP:
          return [OP.AUTHENTICATE, string('org.apache.cassandra.auth.PasswordAuthenticator')];
        case OP.AUTH_RESPONSE: {
          // SASL PLAIN token: \0user\0password
          const tokenLength = body.readInt32BE(0);
          const token = tokenLength < 0 ? '' : body.subarray(4, 4 + tokenLength).toString('utf8');
          const [, user = '', password = ''] = token.split('\0');
          const verdict =
            options.authority.fault(SERVICE) === 'reject'
              ? { accepted: false as const }
              : options.authority.check(SERVICE, password, user);
          authAttempts.push({ userName: user, accepted: verdict.accepted });
          if (!verdict.accepted) {
            return [
              OP.ERROR,
              error(CQL_ERROR.BAD_CREDENTIALS, `Provided username ${user} and/or password are incorrect`),
            ];
          }
          userName = user;
          authenticated = true;
          return [OP.AUTH_SUCCESS, bytes(null)];
        }
        case OP.REGISTER:
          return [OP.READY, Buffer.alloc(0)];
        case OP.QUERY: {
          if (!authenticated) {
            return [OP.ERROR, error(CQL_ERROR.PROTOCOL, 'Unexpected message QUERY, expecting SASL_RESPONSE')];
          }
          const queryLength = body.readInt32BE(0);
          const query = body.subarray(4, 4 + queryLength).toString('utf8');
          return answerQuery(query, userName ?? '');
        }
        default:
          return [OP.ERROR, error(CQL_ERROR.PROTOCOL, `Unsupported opcode 0x${opcode.toString(16)}`)];
      }
    }

    function answerQuery(query: string, user: string): [number, Buffer] {
      const m = /^\s*select\s+(.+?)\s+from\s+([\w.]+)/is.exec(query);
      if (!m) return [OP.ERROR, error(CQL_ERROR.INVALID, 'The emulated endpoint answers only SELECT')];
      const [keyspace = '', table = ''] = (m[2] ?? '').toLowerCase().split('.');
      if (options.authority.fault(SERVICE) === 'deny') {
        const arn = `arn:aws:iam::${options.accountId ?? '123456789012'}:user/${user.replace(/-at-\d+$/, '')}`;
        return [OP.ERROR, error(CQL_ERROR.UNAUTHORIZED, `User ${arn} has no permissions.`)];
      }
      const selectList = (m[1] ?? '').trim();
      const selected = selectList === '*' ? '*' : selectList.split(',').map((c) => c.trim().toLowerCase());
      let spec: Table;
      if (keyspace === 'system' && table === 'local')
        spec = local(socket.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1');
      else if (keyspace === 'system' && (table === 'peers' || table === 'peers_v2')) spec = peers;
      else if (keyspace.startsWith('system')) spec = { columns: [], rows: [] };
      else return [OP.ERROR, error(CQL_ERROR.INVALID, `unconfigured table ${table}`)];
      if (selected !== '*') {
        const unknown = selected.find((c) => !spec.columns.some(([name]) => name === c));
        if (unknown !== undefined && spec.columns.length > 0) {
          return [OP.ERROR, error(CQL_ERROR.INVALID, `Undefined column name ${unknown}`)];
        }
        if (spec.columns.length === 0) return [OP.RESULT, rowsResult(keyspace, table, spec, '*')];
      }
      return [OP.RESULT, rowsResult(keyspace, table, spec, selected)];
    }
  }

  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    authAttempts,
    startupVersions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function error(code: number, message: string): Buffer {
  return Buffer.concat([int(code), string(message)]);
}
