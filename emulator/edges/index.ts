// The services' edges the credential probes talk to (Keyspaces CQL, CodeCommit Git, Bedrock,
// CloudWatch Logs), started beside an AwsEmulator whose IAM state they judge credentials by.
// Usage: `const edges = await startServiceEdges(emulator, { propagationDelayMs: 3000 })`;
// give the probes `edges.ca`, `edges.cql` and `edges.httpsUrl`; `edges.authority.setFault(...)`.
import type { AwsEmulator } from '../emulator.ts';
import { CredentialAuthority } from './authority.ts';
import { type CqlEdge, startCqlEdge } from './cql.ts';
import { type HttpsEdge, startHttpsEdge } from './https.ts';
import { type HandshakeLatency, latencyOf } from './latency.ts';
import { selfSignedLocalhost, type TlsIdentity } from './tls.ts';

export { CredentialAuthority, type EdgeFault, type EdgeService, type Verdict } from './authority.ts';
export { CQL_ERROR } from './cql.ts';
export { type HandshakeLatency, latencyOf } from './latency.ts';
export { selfSignedLocalhost, type TlsIdentity } from './tls.ts';

export interface ServiceEdgesOptions {
  /** A new or reset secret is refused until this long after issue. @default 0 */
  readonly propagationDelayMs?: number;
  /** @default a fresh self-signed certificate for localhost/127.0.0.1 */
  readonly tls?: TlsIdentity;
  readonly repositories?: readonly string[];
  readonly logGroups?: readonly string[];
  /**
   * Delay per connection before an edge answers (TLS handshake plus, for CQL, the session set-up
   * of a real endpoint), e.g. `{ minMs: 50, maxMs: 200 }`. @default 0
   */
  readonly handshakeLatency?: HandshakeLatency;
}

export interface ServiceEdges {
  readonly authority: CredentialAuthority;
  /** The PEM the probes must trust. */
  readonly ca: string;
  readonly cql: CqlEdge;
  readonly https: HttpsEdge;
  /** `host:port` of the CQL edge. */
  readonly cqlEndpoint: string;
  readonly httpsUrl: string;
  close(): Promise<void>;
}

export async function startServiceEdges(
  emulator: Pick<AwsEmulator, 'iam' | 'onSecretIssued' | 'region' | 'accountId'>,
  options: ServiceEdgesOptions = {},
): Promise<ServiceEdges> {
  const tls = options.tls ?? selfSignedLocalhost();
  const authority = new CredentialAuthority(emulator.iam, { propagationDelayMs: options.propagationDelayMs });
  const handshakeLatencyMs = latencyOf(options.handshakeLatency);
  const unsubscribe = emulator.onSecretIssued((secret) => authority.noteIssued(secret));
  const cql = await startCqlEdge({
    authority,
    tls,
    dataCenter: emulator.region,
    accountId: emulator.accountId,
    handshakeLatencyMs,
  });
  const https = await startHttpsEdge({
    authority,
    tls,
    accountId: emulator.accountId,
    repositories: options.repositories,
    logGroups: options.logGroups,
    handshakeLatencyMs,
  });
  return {
    authority,
    ca: tls.cert,
    cql,
    https,
    cqlEndpoint: `${cql.host}:${cql.port}`,
    httpsUrl: https.url,
    close: async () => {
      unsubscribe();
      await Promise.all([cql.close(), https.close()]);
    },
  };
}
