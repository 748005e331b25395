// The secret value format (docs/DESIGN.md "Secret value"): building it from what IAM issued,
// and reading it back. A value that is not a valid record for its target means
// "bootstrap"; a valid record of *another* target is a configuration error.
// zod/mini rather than 'zod': tree-shakable, so less of zod is loaded at cold start (see events.ts).
import * as z from 'zod/mini';
import type { Credential, CredentialRecord, IssuedCredential, Target } from './model.ts';

const nonEmpty = () => z.string().check(z.minLength(1));

const recordSchema = z
  .object({
    credentialId: nonEmpty(),
    userName: nonEmpty(),
    serviceName: nonEmpty(),
    issuedAt: z.iso.datetime({ offset: true }),
    username: z.optional(z.string()),
    password: z.optional(z.string()),
    apiKey: z.optional(z.string()),
    alias: z.optional(z.string()),
    expiresAt: z.optional(z.iso.datetime({ offset: true })),
    rolledBackAt: z.optional(z.iso.datetime({ offset: true })),
  })
  .check(
    z.refine((r) => (r.username !== undefined && r.password !== undefined) || r.apiKey !== undefined, {
      error: 'a record holds username+password or apiKey',
    }),
  );

export function recordFromIssued(issued: IssuedCredential): CredentialRecord {
  const common = {
    credentialId: issued.id,
    userName: issued.userName,
    serviceName: issued.serviceName,
    issuedAt: issued.createdAt.toISOString(),
  };
  if (issued.serviceCredentialSecret !== undefined) {
    return {
      apiKey: issued.serviceCredentialSecret,
      alias: issued.alias,
      ...common,
      ...(issued.expiresAt ? { expiresAt: issued.expiresAt.toISOString() } : {}),
    };
  }
  if (issued.servicePassword === undefined || issued.serviceUserName === undefined) {
    // Not a secret leak: only the absence is reported.
    throw new Error(`IAM returned credential ${issued.id} without a password or secret`);
  }
  return {
    username: issued.serviceUserName,
    password: issued.servicePassword,
    ...common,
    ...(issued.expiresAt ? { expiresAt: issued.expiresAt.toISOString() } : {}),
  };
}

export function serializeRecord(record: CredentialRecord): string {
  return JSON.stringify(record);
}

export type ParsedRecord =
  | { readonly kind: 'valid'; readonly record: CredentialRecord }
  /** Placeholder, not JSON, or not a record: bootstrap. */
  | { readonly kind: 'absent'; readonly reason: string }
  /** A well-formed record naming another user or service. */
  | { readonly kind: 'foreign'; readonly reason: string };

export function parseRecord(value: string | undefined, target: Target): ParsedRecord {
  if (value === undefined) return { kind: 'absent', reason: 'secret has no value' };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { kind: 'absent', reason: 'placeholder value, so a first credential is issued' };
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) return { kind: 'absent', reason: 'secret value is not a credential record' };
  const record = parsed.data;
  if (record.userName !== target.userName || record.serviceName !== target.serviceName) {
    return {
      kind: 'foreign',
      reason:
        `secret records a credential of ${record.userName}/${record.serviceName}, ` +
        `but its tags name ${target.userName}/${target.serviceName}`,
    };
  }
  return { kind: 'valid', record };
}

/** What IAM issued, rebuilt from a stored record and IAM's listing: a probe's input. */
export function issuedFromRecord(listed: Credential, record: CredentialRecord): IssuedCredential {
  return {
    ...listed,
    serviceUserName: record.username ?? listed.serviceUserName,
    servicePassword: record.password,
    serviceCredentialSecret: record.apiKey,
  };
}
