// What the handler asks the executor to do, after events.ts has validated the event.

/** A target named by its secret (name or ARN), or by its IAM user and service. */
export type TargetRef =
  | { readonly secretId: string }
  | { readonly userName: string; readonly serviceName: string };

export type Command =
  /** Run the lifecycle on every target (the schedule). */
  | { readonly action: 'reconcile'; readonly dryRun: boolean }
  /** Issue a new credential for one target now, whatever its age. */
  | {
      readonly action: 'rotate';
      readonly target: TargetRef;
      readonly force: boolean;
      readonly dryRun: boolean;
    }
  /** Report, change nothing. */
  | { readonly action: 'status'; readonly target?: TargetRef | undefined };
