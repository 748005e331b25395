// The wire codecs: IAM's Query protocol (form-encoded request, XML response) and Secrets
// Manager's JSON 1.1 protocol (X-Amz-Target header, JSON body, dates as epoch seconds).
// Shapes follow what the SDK v3 deserializers read (@aws-sdk/client-iam and
// client-secrets-manager schemas): `<Op>Response/<Op>Result/...`, lists as `<member>`.
import type { AwsApiError } from './errors.ts';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
/** CloudFormation speaks the same Query protocol, in its own namespace. */
export const CLOUDFORMATION_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
/** The Query API version CloudFormation's requests carry (IAM's is 2010-05-08). */
export const CLOUDFORMATION_VERSION = '2010-05-15';

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

/** A result member as Query XML: structures nest, lists wrap `<member>`s, undefined is left out. */
function memberXml(name: string, value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((v) => memberXml('member', v)).join('')}</${name}>`;
  if (value instanceof Date || typeof value !== 'object' || value === null) {
    return el(name, value as string | number | boolean | Date);
  }
  return `<${name}>${structureXml(value as Record<string, unknown>)}</${name}>`;
}

const structureXml = (members: Record<string, unknown>): string =>
  Object.entries(members)
    .map(([k, v]) => memberXml(k, v))
    .join('');

/** `<Op>Response` with the result's members in `<Op>Result` (left out when there are none). */
export function iamResponse(
  operation: string,
  result: Record<string, unknown>,
  requestId: string,
  namespace: string = IAM_NAMESPACE,
): WireResponse {
  const members = structureXml(result);
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${namespace}">` +
    (Object.keys(result).length === 0 ? '' : `<${operation}Result>${members}</${operation}Result>`) +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body };
}

export function iamError(e: AwsApiError, requestId: string, namespace: string = IAM_NAMESPACE): WireResponse {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: e.status, headers: { 'content-type': 'text/xml' }, body };
}

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
