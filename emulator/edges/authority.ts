// Which secrets the service edges accept: IAM's state is the truth. A secret is accepted
// when it is the current secret of an Active credential of that service and it was issued
// at least `propagationDelayMs` ago (IAM changes reach the services eventually). Fault
// injection per service overrides the verdict. Read-only over the IAM model.
import type { IamModel } from '../iam.ts';

export type EdgeService =
  | 'cassandra.amazonaws.com'
  | 'codecommit.amazonaws.com'
  | 'bedrock.amazonaws.com'
  | 'logs.amazonaws.com';

/**
 * - `reject`: answer as for a wrong password/key whatever was sent.
 * - `deny`: accept the credential, then refuse the operation for lack of permission.
 * - `drop`: destroy the connection without an answer.
 */
export type EdgeFault = 'reject' | 'deny' | 'drop';

export type Verdict =
  | { readonly accepted: true; readonly userName: string }
  | { readonly accepted: false; readonly why: 'unknown' | 'inactive' | 'propagating' };

export interface CredentialAuthorityOptions {
  /** A new or reset secret is refused until this long after IAM issued it. @default 0 */
  readonly propagationDelayMs?: number;
  /** Real time in ms (propagation is real time, not the emulator's virtual clock). */
  readonly now?: () => number;
}

export class CredentialAuthority {
  propagationDelayMs: number;
  private readonly now: () => number;
  private readonly issuedAt = new Map<string, number>();
  private readonly faults = new Map<EdgeService, EdgeFault>();

  constructor(
    private readonly iam: Pick<IamModel, 'credentials'>,
    options: CredentialAuthorityOptions = {},
  ) {
    this.propagationDelayMs = options.propagationDelayMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  /** Feed from the emulator's issue hook; a secret never noted counts as issued long ago. */
  noteIssued(secret: string): void {
    this.issuedAt.set(secret, this.now());
  }

  setFault(service: EdgeService, fault: EdgeFault | undefined): void {
    if (fault === undefined) this.faults.delete(service);
    else this.faults.set(service, fault);
  }

  fault(service: EdgeService): EdgeFault | undefined {
    return this.faults.get(service);
  }

  /** The verdict for a user name + password (Keyspaces, CodeCommit) or an API key (no user name). */
  check(service: EdgeService, secret: string, serviceUserName?: string): Verdict {
    const match = this.iam
      .credentials({ serviceName: service })
      .find(
        (c) =>
          c.secret === secret && (serviceUserName === undefined || c.ServiceUserName === serviceUserName),
      );
    if (!match) return { accepted: false, why: 'unknown' };
    if (match.Status !== 'Active') return { accepted: false, why: 'inactive' };
    const issued = this.issuedAt.get(secret);
    if (issued !== undefined && this.now() - issued < this.propagationDelayMs) {
      return { accepted: false, why: 'propagating' };
    }
    return { accepted: true, userName: match.UserName };
  }
}
