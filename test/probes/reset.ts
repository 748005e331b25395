// Resets a credential's password/key through the emulator's wire dispatcher (the IAM Query
// API, as the SDK would send it), so the reset goes through IAM's issue path (the edges time
// propagation from it) without depending on the model's method names.
import type { AwsEmulator } from '../../emulator/index.ts';

/** Resets the credential and returns its new secret. */
export async function resetCredential(emulator: AwsEmulator, userName: string, id: string): Promise<string> {
  const body = new URLSearchParams({
    Action: 'ResetServiceSpecificCredential',
    Version: '2010-05-08',
    UserName: userName,
    ServiceSpecificCredentialId: id,
  }).toString();
  const response = await emulator.handle({
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (response.status !== 200) throw new Error(`ResetServiceSpecificCredential answered ${response.status}`);
  return String(emulator.iam.credential(id)?.secret);
}
