// CloudWatch Logs probe: Logs API keys work only for log ingestion, so the only honest check
// writes one event to a canary log group the user names (PutLogEvents with the key as a
// Bearer token). Without a canary group there is nothing read-only to ask: skipped, said so.
import { classifyBearerAnswer } from './bedrock.ts';
import { type HttpsOptions, httpsCall } from './https.ts';
import { type CredentialProbe, type ProbeInput, type ProbeResult, result } from './probe.ts';

export const DEFAULT_CANARY_LOG_STREAM = 'credential-rotator';

export interface LogsProbeOptions extends HttpsOptions {
  /** @default `https://logs.<region>.amazonaws.com` */
  readonly baseUrl?: string | undefined;
  /** Event time (ms). @default Date.now */
  readonly now?: (() => number) | undefined;
}

export class LogsProbe implements CredentialProbe {
  constructor(private readonly options: LogsProbeOptions = {}) {}

  async verify(input: ProbeInput): Promise<ProbeResult> {
    const logGroupName = input.settings?.canaryLogGroup;
    if (!logGroupName) {
      return result(
        'skipped',
        'CloudWatch Logs keys only work for ingestion and no canary log group is configured',
      );
    }
    const logStreamName = input.settings?.canaryLogStream ?? DEFAULT_CANARY_LOG_STREAM;
    const base = this.options.baseUrl ?? `https://logs.${input.region}.amazonaws.com`;
    const answer = await httpsCall(
      new URL('/', base),
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${input.credential.secret}`,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Logs_20140328.PutLogEvents',
        },
        body: JSON.stringify({
          logGroupName,
          logStreamName,
          logEvents: [{ timestamp: (this.options.now ?? Date.now)(), message: 'credential verification' }],
        }),
      },
      this.options,
    );
    return classifyBearerAnswer(
      answer,
      `CloudWatch Logs PutLogEvents to ${logGroupName}/${logStreamName}`,
      input,
    );
  }
}
