// Bedrock probe: a read-only ListFoundationModels (`GET /foundation-models`) with the API key
// as a Bearer token. An authenticated key without the permission gets IAM's "is not
// authorized to perform" wording (denied); any other 401/403 means the key itself was not
// accepted (rejected, retried while it propagates).
import { type HttpsOptions, httpsCall, NOT_AUTHORIZED } from './https.ts';
import { type CredentialProbe, type ProbeInput, type ProbeResult, redactSecret, result } from './probe.ts';

export interface BedrockProbeOptions extends HttpsOptions {
  /** @default `https://bedrock.<region>.amazonaws.com` */
  readonly baseUrl?: string | undefined;
}

export class BedrockProbe implements CredentialProbe {
  constructor(private readonly options: BedrockProbeOptions = {}) {}

  async verify(input: ProbeInput): Promise<ProbeResult> {
    const base = this.options.baseUrl ?? `https://bedrock.${input.region}.amazonaws.com`;
    const answer = await httpsCall(
      new URL('/foundation-models', base),
      {
        method: 'GET',
        headers: { authorization: `Bearer ${input.credential.secret}`, accept: 'application/json' },
        credential: input.credential,
      },
      this.options,
    );
    return classifyBearerAnswer(answer, `Bedrock ListFoundationModels in ${input.region}`, input);
  }
}

/** Shared by the bearer-key probes (Bedrock, CloudWatch Logs). */
export function classifyBearerAnswer(
  answer: Awaited<ReturnType<typeof httpsCall>>,
  where: string,
  input: ProbeInput,
): ProbeResult {
  if (answer.kind === 'failed') {
    return result('unreachable', redactSecret(`${where}: ${answer.description}`, input.credential));
  }
  if (answer.status >= 200 && answer.status < 300) return result('verified', `${where} accepted the key`);
  const type = answer.errorType ? ` ${answer.errorType}` : '';
  if ((answer.status === 401 || answer.status === 403) && NOT_AUTHORIZED.test(answer.body)) {
    return result('denied', `${where} answered HTTP ${answer.status}${type}: the key lacks permission`);
  }
  if (answer.status === 401 || answer.status === 403) {
    return result('rejected', `${where} answered HTTP ${answer.status}${type} (key not valid yet, or wrong)`);
  }
  return result('unreachable', `${where} answered HTTP ${answer.status}${type}`);
}
