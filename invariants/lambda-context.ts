// The Lambda context a local invocation (test, bench, script) hands the handler: Lambda's
// fields with plausible values and a deadline the caller chooses.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface FakeContextOptions {
  /** @default 'credential-rotator' */
  readonly functionName?: string;
  /**
   * What getRemainingTimeInMillis answers: a fixed number, or a function (see `countdown`).
   * @default 600_000
   */
  readonly remainingMs?: number | (() => number);
  /** @default a new random UUID */
  readonly awsRequestId?: string;
}

/** A deadline `ms` from now, counting down in real time, never below 0. */
export function countdown(ms: number): () => number {
  const deadline = Date.now() + ms;
  return () => Math.max(0, deadline - Date.now());
}

export function fakeLambdaContext(options: FakeContextOptions = {}): Context {
  const functionName = options.functionName ?? 'credential-rotator';
  const remaining = options.remainingMs ?? 600_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/11/22/[$LATEST]${functionName}`,
    getRemainingTimeInMillis: typeof remaining === 'number' ? () => remaining : remaining,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
