// Small helpers the executor's suites share: the one target of a report, and a port with one
// method replaced (a fault or a probe placed exactly where a test needs it).
import { expect } from 'vitest';
import type { TargetReport } from '../../lambda/rotation/model.ts';

/** The report's only target; fails the test when there is not exactly one. */
export function only(report: { readonly targets: readonly TargetReport[] } | undefined): TargetReport {
  expect(report?.targets).toHaveLength(1);
  return report?.targets[0] as TargetReport;
}

/** `port` with `key` replaced; every other member is the real port's, bound to it. */
export function withMethod<P extends object, K extends keyof P>(port: P, key: K, replacement: P[K]): P {
  return new Proxy(port, {
    get: (target, k) => {
      if (k === key) return replacement;
      const value = Reflect.get(target, k);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
