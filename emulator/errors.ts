// An error as the emulated service answers it on the wire. Models throw these; the wire
// layer turns them into an IAM XML ErrorResponse or a Secrets Manager JSON error body.

export class AwsApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'AwsApiError';
    this.code = code;
    this.status = status;
  }
}

export const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";
export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";
