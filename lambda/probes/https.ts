// One HTTPS request for the HTTP-based probes (CodeCommit, Bedrock, CloudWatch Logs), with
// node:https so a test can pass the emulator's CA; production uses the default trust store.
// Network and TLS failures come back as a secret-free description, never as the raw error
// (whose properties can carry the request's headers).
import { request } from 'node:https';
import { cutRedacted, type Redacted } from '../redact.ts';
import { type ProbeCredential, redactSecret } from './probe.ts';

export interface HttpsOptions {
  /** Extra CA certificates (PEM) to trust, e.g. a local emulator's. @default the system's */
  readonly ca?: string | undefined;
  /** Per-request timeout. @default 10000 */
  readonly timeoutMs?: number | undefined;
}

/** Per-request (and Keyspaces connect) timeout of every probe. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

export type HttpsAnswer =
  | { readonly kind: 'response'; readonly status: number; readonly errorType: string; readonly body: string }
  | { readonly kind: 'failed'; readonly description: Redacted };

/**
 * Reads at most this much of a body: enough for an error message, bounded for a git ref list.
 * A body is only matched (NOT_AUTHORIZED), never quoted in a reason, so cutting it leaks nothing.
 */
const MAX_BODY_BYTES = 16_384;

export function httpsCall(
  url: URL,
  init: {
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body?: string;
    /** The credential the request carries: removed from a failure's description. */
    credential: ProbeCredential;
  },
  options: HttpsOptions = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: init.method,
        headers: init.headers,
        ca: options.ca,
        timeout: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({
            kind: 'response',
            status: res.statusCode ?? 0,
            errorType: String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] ?? '',
            body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_BYTES),
          }),
        );
        res.on('error', (err) =>
          resolve({ kind: 'failed', description: describeNetworkError(err, init.credential) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) =>
      resolve({ kind: 'failed', description: describeNetworkError(err, init.credential) }),
    );
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** The longest piece of a library's message a reason quotes. */
export const MAX_DESCRIPTION_CHARS = 200;

/**
 * `ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`...: the code names the failure without
 * quoting the request. Without a code, the message: redacted first, then cut short (cutting
 * first could leave a piece of the credential too short to match the whole).
 */
export function describeNetworkError(err: unknown, credential: ProbeCredential): Redacted {
  const code = (err as { code?: unknown } | null)?.code;
  const text =
    typeof code === 'string' && code.length > 0 ? code : err instanceof Error ? err.message : String(err);
  return cutRedacted(redactSecret(text, credential), MAX_DESCRIPTION_CHARS);
}

/** IAM's wording when an authenticated principal lacks a permission. */
export const NOT_AUTHORIZED = /is not authorized to perform/;
