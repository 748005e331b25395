// Keyspaces probe: a CQL session over TLS to `cassandra.<region>.amazonaws.com:9142` with the
// service user name and password (the driver's PlainTextAuthProvider, SASL PLAIN), then
// `SELECT release_version FROM system.local`. Classified by CQL error code, never by class
// name (a minified bundle renames the driver's classes): 0x0100 bad credentials -> rejected,
// 0x2100 unauthorized -> denied, socket/TLS errors -> unreachable.
import { isIP } from 'node:net';
import { DEFAULT_PROBE_TIMEOUT_MS, describeNetworkError } from './https.ts';
import {
  type CredentialProbe,
  type ProbeCredential,
  type ProbeInput,
  type ProbeResult,
  redactSecret,
  result,
} from './probe.ts';

/** CQL native protocol error codes (the spec's "Error codes" section). */
export const CQL_BAD_CREDENTIALS = 0x0100;
export const CQL_UNAUTHORIZED = 0x2100;

export const KEYSPACES_PORT = 9142;

export interface KeyspacesProbeOptions {
  /** @default `cassandra.<region>.amazonaws.com` */
  readonly host?: string | undefined;
  /** @default 9142 */
  readonly port?: number | undefined;
  /** Extra CA certificates (PEM) to trust, e.g. a local emulator's. @default the system's */
  readonly ca?: string | undefined;
  /** Connect and per-request timeout. @default 10000 */
  readonly timeoutMs?: number | undefined;
}

export class KeyspacesProbe implements CredentialProbe {
  constructor(private readonly options: KeyspacesProbeOptions = {}) {}

  async verify(input: ProbeInput): Promise<ProbeResult> {
    const host = this.options.host ?? `cassandra.${input.region}.amazonaws.com`;
    const port = this.options.port ?? KEYSPACES_PORT;
    const timeout = this.options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const where = `Keyspaces at ${host}:${port}`;
    // Loaded on first use: the driver is most of the bundle and most of its start-up time, and
    // a rotator without Keyspaces targets never needs it.
    const { default: cassandra } = await import('cassandra-driver');
    const client = new cassandra.Client({
      contactPoints: [`${host}:${port}`],
      // Keyspaces reports the region as its data centre.
      localDataCenter: input.region,
      authProvider: new cassandra.auth.PlainTextAuthProvider(
        input.credential.serviceUserName ?? '',
        input.credential.secret,
      ),
      sslOptions: {
        // SNI takes a host name only (RFC 6066); an IP endpoint (tests) goes without.
        ...(isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: true,
        ...(this.options.ca ? { ca: [this.options.ca] } : {}),
      },
      // Keyspaces speaks v3/v4: start at v4 instead of negotiating down from the driver's v5/DSE.
      protocolOptions: { port, maxVersion: 4 },
      // A probe needs no schema: skip the control connection's schema queries.
      isMetadataSyncEnabled: false,
      pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 1 } },
      socketOptions: { connectTimeout: timeout, readTimeout: timeout },
    });
    try {
      const rs = await client.execute('SELECT release_version FROM system.local');
      const version = rs.first()?.get('release_version');
      return result('verified', `${where} accepted the credential (release_version ${String(version)})`);
    } catch (err) {
      return redacted(classifyCqlError(err, where, input.credential), input);
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  }
}

function redacted(r: ProbeResult, input: ProbeInput): ProbeResult {
  return { ...r, reason: redactSecret(r.reason, input.credential) };
}

/** The CQL error code of a driver error (an AuthenticationError keeps it in `additionalInfo`). */
function cqlCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; additionalInfo?: { code?: unknown } } | null;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.additionalInfo?.code === 'number') return e.additionalInfo.code;
  return undefined;
}

/** NoHostAvailable wraps one error per host tried; otherwise the error is the one. */
function causes(err: unknown): unknown[] {
  const inner = (err as { innerErrors?: unknown } | null)?.innerErrors;
  if (inner && typeof inner === 'object') {
    const list = Object.values(inner as Record<string, unknown>);
    if (list.length > 0) return list;
  }
  return [err];
}

/** A failure's reason; a message without a code is redacted, then cut (describeNetworkError). */
export function classifyCqlError(err: unknown, where: string, credential: ProbeCredential): ProbeResult {
  const all = causes(err);
  const codes = all.map(cqlCode);
  if (codes.includes(CQL_UNAUTHORIZED)) {
    return result('denied', `${where} answered CQL error 0x2100 (Unauthorized): the user lacks permission`);
  }
  if (codes.includes(CQL_BAD_CREDENTIALS)) {
    return result(
      'rejected',
      `${where} answered CQL error 0x0100 (Bad credentials): password not valid yet, or wrong`,
    );
  }
  const code = codes.find((c) => c !== undefined);
  if (code !== undefined) {
    return result('unreachable', `${where} answered CQL error 0x${code.toString(16).padStart(4, '0')}`);
  }
  return result(
    'unreachable',
    `${where}: ${[...new Set(all.map((e) => describeNetworkError(e, credential)))].join(', ')}`,
  );
}
