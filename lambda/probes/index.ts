// Entry point of credential verification: the probe for each service, chosen by IAM's
// service name, behind the one CredentialProbe port. Endpoints and CA are overridable so
// tests can aim the probes at the local emulator's edges.
import { BedrockProbe } from './bedrock.ts';
import { CodeCommitProbe } from './codecommit.ts';
import { KeyspacesProbe } from './keyspaces.ts';
import { LogsProbe } from './logs.ts';
import {
  assertProbeInput,
  type CredentialProbe,
  type ProbeInput,
  type ProbeResult,
  result,
} from './probe.ts';

export type {
  CredentialProbe,
  ProbeCredential,
  ProbeInput,
  ProbeOutcome,
  ProbeResult,
  ProbeSettings,
} from './probe.ts';
export { assertProbeInput, redactSecret } from './probe.ts';
export { DEFAULT_RETRY_POLICY, RetryingProbe, type RetryPolicy, type RetryTiming } from './retry.ts';
export { BedrockProbe, CodeCommitProbe, KeyspacesProbe, LogsProbe };

export interface ServiceProbeOptions {
  /** Extra CA certificates (PEM) every probe trusts. @default the system's */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /** Keyspaces endpoint override, `host:port`. */
  readonly keyspacesEndpoint?: string | undefined;
  /** Base URL overrides for the HTTPS services. */
  readonly codeCommitBaseUrl?: string | undefined;
  readonly bedrockBaseUrl?: string | undefined;
  readonly logsBaseUrl?: string | undefined;
}

/** Services whose credential is a user name + password (the others carry an API key only). */
const USER_NAME_SERVICES = new Set(['cassandra.amazonaws.com', 'codecommit.amazonaws.com']);

/** Dispatches to the probe of the input's service; an unknown service is skipped, said so. */
export class ServiceProbes implements CredentialProbe {
  private readonly probes: Readonly<Record<string, CredentialProbe>>;

  constructor(options: ServiceProbeOptions = {}) {
    const { ca, timeoutMs } = options;
    const [host, port] = splitEndpoint(options.keyspacesEndpoint);
    this.probes = {
      'cassandra.amazonaws.com': new KeyspacesProbe({ host, port, ca, timeoutMs }),
      'codecommit.amazonaws.com': new CodeCommitProbe({ baseUrl: options.codeCommitBaseUrl, ca, timeoutMs }),
      'bedrock.amazonaws.com': new BedrockProbe({ baseUrl: options.bedrockBaseUrl, ca, timeoutMs }),
      'logs.amazonaws.com': new LogsProbe({ baseUrl: options.logsBaseUrl, ca, timeoutMs }),
    };
  }

  async verify(input: ProbeInput): Promise<ProbeResult> {
    const probe = this.probes[input.serviceName];
    if (!probe) return result('skipped', `no probe exists for ${input.serviceName}`);
    assertProbeInput(input, USER_NAME_SERVICES.has(input.serviceName));
    return probe.verify(input);
  }
}

function splitEndpoint(endpoint: string | undefined): [string | undefined, number | undefined] {
  if (endpoint === undefined) return [undefined, undefined];
  const m = /^([^:]+):(\d{1,5})$/.exec(endpoint);
  if (!m) throw new RangeError(`keyspacesEndpoint: expected "host:port", got ${JSON.stringify(endpoint)}`);
  return [m[1], Number(m[2])];
}
