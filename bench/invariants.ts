// End-of-bench checks of the product's promises (docs/DESIGN.md, I1–I6) on every target of a
// bench world: the checks of verify/, collected per check instead of failing a test, so the
// report can show them.
import {
  atRestProblems,
  CHECKS,
  type CheckName,
  createWithoutStoreProblems,
  describeForScan,
  findLeakedSecrets,
  type Problem,
  targetSecrets,
  writeCalls,
} from '../invariants/index.ts';
import { type BenchWorld, captured } from './harness.ts';

export interface InvariantResult {
  readonly targets: number;
  /** Per check: how many targets (or leaked secrets) violate it; 0 everywhere = all pass. */
  readonly violations: Record<string, number>;
  /** A few examples, for the report. */
  readonly examples: string[];
  readonly passed: boolean;
  /** Whether I6 (a second run writes nothing) was run. */
  readonly secondRunChecked: boolean;
}

const SCHEDULED = { action: 'reconcile' };

/**
 * I4's "no create without store" over every invocation: Secrets Manager's createSecret step
 * issues a credential and stores it under AWSPENDING, and finishSecret reports the store when
 * it makes that version current, so a create may be stored by a later invocation, or sit in a
 * version of its secret (a rotation whose later step Lambda throttled): both are stored.
 */
function createWithoutStore(world: BenchWorld): Problem[] {
  const storedIds = new Set<string>();
  for (const report of world.reports) {
    for (const t of report.targets) {
      for (const a of t.actions) if (a.type === 'store' && a.credentialId) storedIds.add(a.credentialId);
    }
  }
  for (const secret of world.emulator.secrets.all()) {
    for (const v of secret.versions) {
      const id = /"credentialId":"([^"]+)"/.exec(v.secretString ?? '')?.[1];
      if (id) storedIds.add(id);
    }
  }
  return world.reports.flatMap((report) =>
    createWithoutStoreProblems(report).filter((p) => ![...storedIds].some((id) => p.message.includes(id))),
  );
}

/**
 * I1 and I4 at rest, I4's "no create without store" in every report, I6 (a second run writes
 * nothing, checked by running it) and I5 (no issued secret in anything the handler printed,
 * returned or threw). I2/I3 are covered by I1 plus the "at most two, none stray" checks at rest.
 */
export async function checkInvariants(
  world: BenchWorld,
  options: { readonly secondRun?: boolean } = {},
): Promise<InvariantResult> {
  const secondRun = options.secondRun ?? true;
  const counted: CheckName[] = [
    CHECKS.lockout,
    CHECKS.tooMany,
    CHECKS.stray,
    CHECKS.createWithoutStore,
    ...(secondRun ? [CHECKS.secondRunWrites] : []),
    CHECKS.leak,
  ];
  const subjects = new Map<string, Set<string>>(counted.map((c) => [c, new Set()]));
  const examples: string[] = [];
  const add = (problems: readonly Problem[]) => {
    for (const p of problems) {
      subjects.get(p.check)?.add(p.subject);
      if (examples.length < 10) examples.push(`${p.check}: ${p.message}`);
    }
  };

  add(atRestProblems(world.emulator, world.policy));
  add(createWithoutStore(world));

  // I6: run again right away; nothing may be written. Not after a run that deferred targets
  // (the next run rotates them): then `secondRunChecked` says so.
  const again = secondRun ? await world.invoke(SCHEDULED) : undefined;
  const writes = again ? writeCalls(again.calls) : [];
  if (again && (writes.length > 0 || again.error)) {
    const error = again.error ? `, error ${describeForScan(again.error).split('\n')[0]}` : '';
    add([
      { check: CHECKS.secondRunWrites, subject: 'second run', message: `${writes.length} writes${error}` },
    ]);
  }
  add(atRestProblems(world.emulator, world.policy));

  // I5: every password and API key IAM issued, against all the handler printed, returned and threw.
  const texts = [...captured, ...world.reports, ...world.errors].map(describeForScan);
  add(
    findLeakedSecrets(texts, world.emulator.issuedSecrets()).map((leak) => ({
      check: CHECKS.leak,
      subject: leak,
      message: leak,
    })),
  );

  const violations = Object.fromEntries([...subjects].map(([check, s]) => [check, s.size]));
  return {
    targets: targetSecrets(world.emulator).length,
    violations,
    examples,
    passed: Object.values(violations).every((n) => n === 0),
    secondRunChecked: secondRun,
  };
}
