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
  | { readonly action: 'status'; readonly target?: TargetRef | undefined }
  /** One step of Secrets Manager's rotation of one secret (protocol.ts). */
  | {
      readonly action: 'rotation-step';
      readonly step: RotationStep;
      /** The secret's ARN (Secrets Manager sends the ARN; a name is accepted too). */
      readonly secretId: string;
      /** ClientRequestToken: the id of the version this rotation fills. */
      readonly token: string;
    };

/** The four steps of Secrets Manager's rotation-function protocol, in the order it calls them. */
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/**
 * What a command asks of one target: one shape per command, the one the planners take
 * (plan.ts's planTarget for reconcile and rotate, operator.ts's planOperator for rollback and
 * revoke). `status` plans what the schedule would do, so it asks `reconcile`. `requestId` is
 * the invocation planning: an intent of its own request id was written by an earlier attempt
 * of the same invocation (Lambda retries keep the id), which has therefore ended.
 */
export type TargetRequest =
  /** The schedule: what is due. */
  (
    | { readonly command: 'reconcile' }
    /** A new credential now, whatever the current one's age; `force` deletes another early when both slots are taken. */
    | { readonly command: 'rotate'; readonly force: boolean }
    | { readonly command: 'rollback' }
    | { readonly command: 'revoke'; readonly credentialId?: string | undefined; readonly delete: boolean }
  ) & { readonly requestId?: string | undefined };

/** The lifecycle's requests (planTarget). */
export type LifecycleRequest = Extract<TargetRequest, { command: 'reconcile' | 'rotate' }>;
/** The operator's repairs (planOperator). */
export type OperatorRequest = Extract<TargetRequest, { command: 'rollback' | 'revoke' }>;

/** A change an operator asked for: an intent another run claimed blocks it (not the schedule). */
export function isManual(request: TargetRequest): boolean {
  return request.command !== 'reconcile';
}
