// Redaction where the text is foreign (security review, round two): describeError (run
// reports, failure reasons), the handler's error log fields and notify's failure logs used to
// pass a library's error text on as it was. They now redact every secret the process holds
// (lambda/redact.ts holdSecrets / redactHeld): issued passwords and API keys, and the secrets
// inside every value read, in every encoding and piece the redaction covers.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY } from '../../lambda/config.ts';
import { createHandler } from '../../lambda/handler.ts';
import { notify } from '../../lambda/notify.ts';
import { holdSecrets, redactHeld } from '../../lambda/redact.ts';
import type { Log } from '../../lambda/rotation/deps.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { describeError } from '../../lambda/rotation/report.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/telemetry.ts';
import { fakeLambdaContext } from '../../invariants/index.ts';
import { anySecret, ENCODINGS, leaksIn, leakyMessage } from '../support/secret-forms.ts';
import { World } from '../support/world.ts';

const encodings = Object.entries(ENCODINGS);

describe('foreign error text is redacted with the secrets in hand', () => {
  it('describeError: every encoding of an issued password, and a piece of it', async () => {
    const w = new World();
    w.addTarget('alice', 'cassandra.amazonaws.com');
    await w.run();
    const password = w.emulator.issuedSecrets().at(-1) as string;
    for (const [name, encode] of encodings) {
      const text = describeError(new TypeError(`unexpected token in ${encode(password)} at 3`));
      expect(leaksIn(text, password), `${name}: ${text}`).toEqual([]);
      expect(text).toContain('TypeError: unexpected token in');
    }
    const piece = describeError(new Error(`...${password.slice(7, 7 + 20)}...`));
    expect(leaksIn(piece, password)).toEqual([]);
  });

  it('property: any held secret, in any form or piece, inside any message', () => {
    fc.assert(
      fc.property(leakyMessage, ({ secret, message }) => {
        holdSecrets([secret]);
        expect(leaksIn(redactHeld(message), secret)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('text without a held secret passes unchanged', () => {
    fc.assert(
      fc.property(anySecret, fc.string({ maxLength: 200 }), (secret, text) => {
        holdSecrets([secret]);
        fc.pre(leaksIn(text, secret).length === 0 && !text.includes(secret.slice(0, 12)));
        expect(redactHeld(text)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it("the handler's error log and notify's failure log", async () => {
    const secret = 'Q2xpZW50U2VjcmV0VmFsdWUtMDEyMzQ1Njc4OWFiY2RlZg';
    holdSecrets([secret]);
    const b64 = Buffer.from(secret).toString('base64');
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    try {
      const handler = createHandler({
        config: { policy: DEFAULT_POLICY, secretNamePrefix: undefined, eventBusName: undefined },
        credentials: {} as never,
        secrets: {} as never,
        now: () => new Date(),
        run: async () => {
          throw new Error(`library failed on ${b64}`);
        },
        logger: new Logger({ serviceName: METRICS_SERVICE, logLevel: 'DEBUG' }),
        metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
      });
      const thrown = await handler({ action: 'reconcile' }, fakeLambdaContext()).then(
        () => undefined,
        (error: unknown) => error,
      );
      // What Lambda reports (and the failure queue records) is redacted too.
      expect(thrown).toBeInstanceOf(Error);
      expect(leaksIn(`${(thrown as Error).message} ${(thrown as Error).stack}`, secret)).toEqual([]);
      expect((thrown as Error).message).toContain('library failed on');

      const calls: string[] = [];
      const log: Log = {
        debug: () => {},
        info: () => {},
        warn: (m, d) => calls.push(`${m} ${JSON.stringify(d)}`),
        error: () => {},
      };
      const report: RunReport = {
        action: 'reconcile',
        dryRun: false,
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        targets: [],
      };
      const failing = {
        addMetric: () => {
          throw new Error(`metrics: %${secret}%`);
        },
      } as unknown as Metrics;
      await notify(report, { metrics: failing, log, now: () => new Date() });
      expect(calls.join('\n')).toContain('metrics not recorded');
      lines.push(...calls);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const out = lines.join('\n');
    expect(out).toContain('run aborted');
    expect(leaksIn(out, secret)).toEqual([]);
  });
});
