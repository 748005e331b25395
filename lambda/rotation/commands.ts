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
  /** Make the previous credential (AWSPREVIOUS) current again and retire the rolled-back one. */
  | { readonly action: 'rollback'; readonly target: TargetRef; readonly dryRun: boolean }
  /**
   * Switch a leaked credential off at once (the current one when `credentialId` is absent,
   * after a new one is stored), and with `delete` delete it at once.
   */
  | {
      readonly action: 'revoke';
      readonly target: TargetRef;
      readonly credentialId?: string | undefined;
      readonly delete: boolean;
      readonly dryRun: boolean;
    }
  /** Report, change nothing. */
  | { readonly action: 'status'; readonly target?: TargetRef | undefined };
