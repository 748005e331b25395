// I5: no issued password or API key in anything the product printed, returned, threw or sent.
// The scan is given every secret the emulator issued and the text to search; it names a leak
// by position and length, never by value, so its own report is not a leak. Encoded forms of a
// secret (base64, hex, URL and JSON escapes) count as the secret.
import { Buffer } from 'node:buffer';

/** A run of characters a password or API key can consist of (IAM's alphabet plus base64url). */
const SECRET_RUN = /[A-Za-z0-9+/=_-]{16,}/g;
const SECRET_CHARS = /^[A-Za-z0-9+/=_-]{16,}$/;

/**
 * The forms an issued secret can take in printed text besides itself, each whole: the ways a
 * library or a service writes a value (JSON-escaped, URL- or form-encoded in either hex case,
 * base64 and base64url with or without padding, hex in either case), and base64 of it inside
 * a longer base64 string (a Basic `user:password` token) at each of the three byte alignments,
 * by the characters that depend on the secret alone. Pieces of a secret are the redaction's
 * unit tests' business (test/support/secret-forms.ts); this scan runs over megabytes.
 */
export function encodedForms(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = bytes.toString('base64');
  const url = (b: string) => b.replace(/\+/g, '-').replace(/\//g, '_');
  const percent = encodeURIComponent(secret);
  const form = new URLSearchParams({ v: secret }).toString().slice(2);
  const lower = (t: string) => t.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  const forms: Record<string, string> = {
    'JSON-escaped': JSON.stringify(secret).slice(1, -1),
    'JSON-escaped with \\/': JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'),
    'URL-encoded': percent,
    'URL-encoded, lower-case hex': lower(percent),
    'form-encoded': form,
    'form-encoded, lower-case hex': lower(form),
    base64,
    'base64 without padding': base64.replace(/=+$/, ''),
    base64url: url(base64),
    'base64url without padding': url(base64).replace(/=+$/, ''),
    hex: bytes.toString('hex'),
    'hex, upper case': bytes.toString('hex').toUpperCase(),
  };
  for (const offset of [1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const core = shifted.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    forms[`base64 at byte offset ${offset}`] = core;
    forms[`base64url at byte offset ${offset}`] = url(core);
  }
  const core0 = base64.slice(0, Math.floor((8 * bytes.length) / 6));
  forms['base64 inside a longer string'] = core0;
  forms['base64url inside a longer string'] = url(core0);
  // A form the secret's own text already is says nothing new.
  for (const [name, value] of Object.entries(forms))
    if (value === secret || value.length < 8) delete forms[name];
  return forms;
}

/**
 * The issued secrets found in `texts`, as `issued secret #i (n chars)`, plus ` as <form>` when
 * it was found encoded (encodedForms). Forms of the usual alphabet are found by cutting every
 * run of that alphabet in the text into windows of each length and looking them up in a set
 * (megabytes of bench output stay fast); any other form is searched for as a plain substring.
 */
export function findLeakedSecrets(texts: readonly string[], issued: readonly string[]): string[] {
  const haystack = texts.join('\n');
  // Every form to look for, and the name it is reported under.
  const named = new Map<string, string[]>();
  const want = (form: string, label: string) => named.set(form, [...(named.get(form) ?? []), label]);
  issued.forEach((s, i) => {
    want(s, `issued secret #${i} (${s.length} chars)`);
    for (const [name, form] of Object.entries(encodedForms(s))) {
      want(form, `issued secret #${i} (${s.length} chars) as ${name}`);
    }
  });
  const found = new Set<string>();
  const windowed = [...named.keys()].filter((s) => SECRET_CHARS.test(s));
  const wanted = new Set(windowed);
  const lengths = [...new Set(windowed.map((s) => s.length))];
  for (const m of haystack.matchAll(SECRET_RUN)) {
    const run = m[0];
    for (const n of lengths) {
      for (let i = 0; i + n <= run.length; i++) {
        const w = run.slice(i, i + n);
        if (wanted.has(w)) found.add(w);
      }
    }
  }
  for (const form of named.keys()) if (!wanted.has(form) && haystack.includes(form)) found.add(form);
  const labels = new Set<string>();
  for (const form of found) for (const label of named.get(form) ?? []) labels.add(label);
  // In the order of the issued secrets, each secret's own form first.
  return [...named.values()].flat().filter((label, i, all) => labels.has(label) && all.indexOf(label) === i);
}

/** Anything as a log sink would see it: an error with its cause chain and own properties. */
export function describeForScan(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!(value instanceof Error)) return safeJson(value);
  const parts: string[] = [];
  let e: unknown = value;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof Error) {
      parts.push(`${e.name}: ${e.message}`, e.stack ?? '');
      parts.push(
        safeJson(
          e,
          Object.getOwnPropertyNames(e).filter((k) => k !== 'cause'),
        ),
      );
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join('\n');
}

function safeJson(value: unknown, keys?: string[]): string {
  try {
    return JSON.stringify(value, keys) ?? String(value);
  } catch {
    // circular: what String() gives is all a sink could show
    return String(value);
  }
}
