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
