// One HTTPS request for the HTTP-based probes (CodeCommit, Bedrock, CloudWatch Logs), with
// node:https so a test can pass the emulator's CA; production uses the default trust store.
// Network and TLS failures come back as a secret-free description, never as the raw error
// (whose properties can carry the request's headers).
import { request } from 'node:https';

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
  | { readonly kind: 'failed'; readonly description: string };

/** Reads at most this much of a body: enough for an error message, bounded for a git ref list. */
const MAX_BODY_BYTES = 16_384;

export function httpsCall(
  url: URL,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
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
        res.on('error', (err) => resolve({ kind: 'failed', description: describeNetworkError(err) }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve({ kind: 'failed', description: describeNetworkError(err) }));
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/**
 * `ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`...: the code names the failure without
 * quoting the request. Without a code, the message (callers redact it), cut short.
 */
export function describeNetworkError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 200 ? `${message.slice(0, 200)}...` : message;
}

/** IAM's wording when an authenticated principal lacks a permission. */
export const NOT_AUTHORIZED = /is not authorized to perform/;
