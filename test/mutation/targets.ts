// The mutation targets: each rules file with the suites aimed at it. A run mutates one target
// at a time against only its own suites, which keeps a run to minutes on a small machine.
export interface MutationTarget {
  /** The file Stryker mutates. */
  readonly mutate: string;
  /** The test files whose job is to pin that file's behaviour. */
  readonly tests: readonly string[];
  /**
   * Stryker's coverageAnalysis. 'perTest' runs only the tests that reach a mutant; 'off' runs
   * them all, for files whose schemas are built once on first use and cached: perTest credits
   * such code only to the first test that builds it, so its mutants would survive falsely.
   */
  readonly coverage: 'perTest' | 'off';
}

const RULES = ['test/rotation/plan.test.ts', 'test/rotation/scenarios.test.ts'];

/** The executor's suites (run.ts and the modules split out of it). */
const RUN_SUITES = [
  'test/rotation/scenarios.test.ts',
  'test/rotation/declared-targets.test.ts',
  'test/rotation/run.test.ts',
  // The run's later paths: rollback and revoke, the Secrets Manager protocol, verification.
  'test/rotation/operator-scenarios.test.ts',
  'test/rotation/protocol.test.ts',
  'test/rotation/protocol-events.test.ts',
  'test/rotation/verification.test.ts',
  // Overlapping runs: the claim token and a claimed intent (2-3 s).
  'test/reliability/overlap.test.ts',
];

export const MUTATION_TARGETS: Readonly<Record<string, MutationTarget>> = {
  // operator.test.ts pins the rollback clock the scheduled planner follows (lifecycleClock);
  // tampering.test.ts the tampering plans (planTampered), which the planner's own tables reach
  // only through detection.
  plan: {
    mutate: 'lambda/rotation/plan.ts',
    tests: [...RULES, 'test/rotation/operator.test.ts', 'test/rotation/tampering.test.ts'],
    coverage: 'perTest',
  },
  // Rule 4's evidence, split out of plan.ts: reached through the planner's tables (adoption,
  // the intent's window) and mayNeedIntent's own table in plan.test.ts.
  orphans: {
    mutate: 'lambda/rotation/orphans.ts',
    tests: [...RULES, 'test/rotation/operator.test.ts'],
    coverage: 'perTest',
  },
  retirement: {
    mutate: 'lambda/rotation/retirement.ts',
    tests: ['test/rotation/retirement.test.ts', ...RULES, 'test/rotation/operator.test.ts'],
    coverage: 'perTest',
  },
  intent: {
    mutate: 'lambda/rotation/intent.ts',
    tests: [...RULES, 'test/rotation/intent.test.ts'],
    coverage: 'perTest',
  },
  record: {
    mutate: 'lambda/rotation/record.ts',
    tests: [...RULES, 'test/rotation/record.test.ts'],
    coverage: 'perTest',
  },
  discovery: {
    mutate: 'lambda/rotation/discovery.ts',
    tests: [
      'test/rotation/discovery.test.ts',
      'test/rotation/declared-targets.test.ts',
      'test/rotation/scenarios.test.ts',
    ],
    coverage: 'perTest',
  },
  // The modules split out of the executor: each has its own unit suite first, and keeps the
  // executor's suites, which reach it through runs.
  // The deadline budget by need is checked end to end by its acceptance suite.
  // run-target.test.ts pins what the run itself reports, logs and reads for each path of one target.
  run: {
    mutate: 'lambda/rotation/run.ts',
    tests: ['test/rotation/run-target.test.ts', 'test/rotation/deadline-budget.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  observe: {
    mutate: 'lambda/rotation/observe.ts',
    tests: ['test/rotation/observe.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  execute: {
    mutate: 'lambda/rotation/execute.ts',
    tests: ['test/rotation/execute.test.ts', 'test/rotation/deadline-budget.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  // A rotation Secrets Manager started and left: its unit suite and the throttled-step acceptance test.
  pending: {
    mutate: 'lambda/rotation/pending.ts',
    tests: ['test/rotation/pending.test.ts', 'test/rotation/stale-rotation.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  // The tampering rule: its unit suite, the planner's suites that plan around it, and the
  // security suite's runs against the emulator.
  tampering: {
    mutate: 'lambda/rotation/tampering.ts',
    tests: ['test/rotation/tampering.test.ts', ...RULES, 'test/security/tampering.test.ts'],
    coverage: 'perTest',
  },
  // The summary of refused secrets: its unit suite and the runs that log it.
  rejected: {
    mutate: 'lambda/rotation/rejected.ts',
    tests: ['test/rotation/rejected.test.ts', 'test/rotation/declared-targets.test.ts'],
    coverage: 'perTest',
  },
  report: {
    mutate: 'lambda/rotation/report.ts',
    tests: ['test/rotation/report.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  concurrency: {
    mutate: 'lambda/rotation/concurrency.ts',
    tests: ['test/rotation/concurrency.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  phases: {
    mutate: 'lambda/rotation/phases.ts',
    tests: ['test/rotation/phases.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  'step-checks': {
    mutate: 'lambda/rotation/step-checks.ts',
    tests: ['test/rotation/step-checks.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  // run.test.ts pins the documented defaults.
  deps: {
    mutate: 'lambda/rotation/deps.ts',
    tests: ['test/rotation/deps.test.ts', 'test/rotation/run.test.ts'],
    coverage: 'perTest',
  },
  commands: {
    mutate: 'lambda/rotation/commands.ts',
    tests: ['test/rotation/commands.test.ts', ...RULES],
    coverage: 'perTest',
  },
  // Each step called alone with its exact report, then the executor's suites (the steps end to end).
  protocol: {
    mutate: 'lambda/rotation/protocol.ts',
    tests: ['test/rotation/protocol-steps.test.ts', ...RUN_SUITES],
    coverage: 'perTest',
  },
  dispatch: {
    mutate: 'lambda/dispatch.ts',
    tests: ['test/dispatch.test.ts', 'test/rotation/protocol.test.ts', 'test/rotation/run.test.ts'],
    coverage: 'perTest',
  },
  // Its command schemas are built lazily; its suites run in a second, so every mutant gets all of them.
  events: {
    mutate: 'lambda/events.ts',
    tests: ['test/events.test.ts', 'test/rotation/protocol-events.test.ts'],
    coverage: 'off',
  },
};
