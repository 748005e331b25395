// The wire codecs: IAM's Query protocol (form-encoded request, XML response) and Secrets
// Manager's JSON 1.1 protocol (X-Amz-Target header, JSON body, dates as epoch seconds).
// Shapes follow what the SDK v3 deserializers read (@aws-sdk/client-iam and
// client-secrets-manager schemas): `<Op>Response/<Op>Result/...`, lists as `<member>`.
import { AwsApiError } from './errors.ts';
import type { CredentialView, IamModel, IamUser, Page } from './iam.ts';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const escapeXml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

const xmlDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function el(name: string, value: string | number | boolean | Date | undefined): string {
  if (value === undefined) return '';
  const text = value instanceof Date ? xmlDate(value) : escapeXml(String(value));
  return `<${name}>${text}</${name}>`;
}

function credentialXml(tag: string, c: CredentialView): string {
  return (
    `<${tag}>` +
    el('CreateDate', c.CreateDate) +
    el('ExpirationDate', c.ExpirationDate) +
    el('ServiceName', c.ServiceName) +
    el('ServiceUserName', c.ServiceUserName) +
    el('ServicePassword', c.ServicePassword) +
    el('ServiceCredentialAlias', c.ServiceCredentialAlias) +
    el('ServiceCredentialSecret', c.ServiceCredentialSecret) +
    el('ServiceSpecificCredentialId', c.ServiceSpecificCredentialId) +
    el('UserName', c.UserName) +
    el('Status', c.Status) +
    `</${tag}>`
  );
}

function userXml(tag: string, u: IamUser): string {
  return (
    `<${tag}>` +
    el('Path', u.path) +
    el('UserName', u.userName) +
    el('UserId', u.userId) +
    el('Arn', u.arn) +
    el('CreateDate', u.createDate) +
    `</${tag}>`
  );
}

function pageXml(p: Page<unknown>): string {
  return el('IsTruncated', p.isTruncated) + el('Marker', p.marker);
}

export function iamResponse(operation: string, result: string | undefined, requestId: string): WireResponse {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${IAM_NAMESPACE}">` +
    (result === undefined ? '' : `<${operation}Result>${result}</${operation}Result>`) +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body };
}

export function iamError(e: AwsApiError, requestId: string): WireResponse {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${IAM_NAMESPACE}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: e.status, headers: { 'content-type': 'text/xml' }, body };
}

const optNumber = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const optBool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v === 'true');

/** Runs one IAM Query action on the model; returns the `<Op>Result` inner XML (undefined = empty result). */
export function runIam(iam: IamModel, action: string, p: Record<string, string>): string | undefined {
  const required = (name: string): string => {
    const v = p[name];
    if (v === undefined) {
      throw new AwsApiError(
        'ValidationError',
        400,
        `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return v;
  };
  switch (action) {
    case 'ListServiceSpecificCredentials': {
      const page = iam.listServiceSpecificCredentials({
        userName: p.UserName,
        serviceName: p.ServiceName,
        allUsers: optBool(p.AllUsers),
        marker: p.Marker,
        maxItems: optNumber(p.MaxItems),
      });
      return `<ServiceSpecificCredentials>${page.items.map((c) => credentialXml('member', c)).join('')}</ServiceSpecificCredentials>${pageXml(page)}`;
    }
    case 'CreateServiceSpecificCredential':
      return credentialXml(
        'ServiceSpecificCredential',
        iam.createServiceSpecificCredential({
          userName: required('UserName'),
          serviceName: required('ServiceName'),
          credentialAgeDays: optNumber(p.CredentialAgeDays),
        }),
      );
    case 'ResetServiceSpecificCredential':
      return credentialXml(
        'ServiceSpecificCredential',
        iam.resetServiceSpecificCredential({
          userName: p.UserName,
          serviceSpecificCredentialId: required('ServiceSpecificCredentialId'),
        }),
      );
    case 'UpdateServiceSpecificCredential':
      iam.updateServiceSpecificCredential({
        userName: p.UserName,
        serviceSpecificCredentialId: required('ServiceSpecificCredentialId'),
        status: required('Status'),
      });
      return undefined;
    case 'DeleteServiceSpecificCredential':
      iam.deleteServiceSpecificCredential({
        userName: p.UserName,
        serviceSpecificCredentialId: required('ServiceSpecificCredentialId'),
      });
      return undefined;
    case 'CreateUser':
      return userXml('User', iam.createUser(required('UserName'), p.Path ?? '/'));
    case 'GetUser':
      return userXml('User', iam.getUser(p.UserName));
    case 'DeleteUser':
      iam.deleteUser(required('UserName'));
      return undefined;
    case 'ListUsers': {
      const page = iam.listUsers({ marker: p.Marker, maxItems: optNumber(p.MaxItems) });
      return `<Users>${page.items.map((u) => userXml('member', u)).join('')}</Users>${pageXml(page)}`;
    }
    default:
      throw new AwsApiError(
        'InvalidAction',
        400,
        `Could not find operation ${action} for version 2010-05-08`,
      );
  }
}

export const IAM_READ_OPERATIONS = new Set(['ListServiceSpecificCredentials', 'GetUser', 'ListUsers']);

// ---- Secrets Manager JSON ------------------------------------------------------------------

/** Dates become epoch seconds (with milliseconds), undefined members disappear. */
export function toJsonWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toJsonWire);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonWire(v);
    return out;
  }
  return value;
}

const JSON_HEADERS = { 'content-type': 'application/x-amz-json-1.1' };

export function jsonResponse(result: unknown): WireResponse {
  return { status: 200, headers: { ...JSON_HEADERS }, body: JSON.stringify(toJsonWire(result)) };
}

export function jsonError(e: AwsApiError): WireResponse {
  return {
    status: e.status,
    headers: { ...JSON_HEADERS, 'x-amzn-errortype': e.code },
    body: JSON.stringify({ __type: e.code, Message: e.message }),
  };
}
