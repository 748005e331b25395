// CloudWatch Logs probe: Logs API keys work only for log ingestion (the HTTP ingestion
// endpoints, with logs:PutLogEvents and logs:CallWithBearerToken), so the only honest check
// writes one event to a canary log group the user names: `POST /ingest/json` with the key as
// a Bearer token and the group/stream in `x-aws-log-group`/`x-aws-log-stream` (200 on
// success, 401 for a refused key). Without a canary group: skipped, said so.
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
      new URL('/ingest/json', base),
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${input.credential.secret}`,
          'content-type': 'application/json',
          'x-aws-log-group': logGroupName,
          'x-aws-log-stream': logStreamName,
        },
        body: JSON.stringify({
          timestamp: (this.options.now ?? Date.now)(),
          message: 'service-credential-rotator: credential verification',
        }),
        credential: input.credential,
      },
      this.options,
    );
    return classifyBearerAnswer(
      answer,
      `CloudWatch Logs ingestion to ${logGroupName}/${logStreamName}`,
      input,
    );
  }
}
