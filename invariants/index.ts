// The verification library: the invariant checks (I1–I6), the secret-leak scan and the fake
// Lambda context, shared by the tests, the bench and the scripts. Never part of the Lambda.
export * from './invariants.ts';
export * from './lambda-context.ts';
export * from './leaks.ts';
