// I5: no issued password or API key in anything the product printed, returned, threw or sent.
// The scan is given every secret the emulator issued and the text to search; it names a leak
// by position and length, never by value, so its own report is not a leak.

/** A run of characters a password or API key can consist of (IAM's alphabet plus base64url). */
const SECRET_RUN = /[A-Za-z0-9+/=_-]{16,}/g;
const SECRET_CHARS = /^[A-Za-z0-9+/=_-]{16,}$/;

/**
 * The issued secrets found in `texts`, as `issued secret #i (n chars)`. Secrets of the usual
 * alphabet are found by cutting every run of that alphabet in the text into windows of each
 * secret length and looking them up in a set (megabytes of bench output stay fast); any other
 * secret is searched for as a plain substring.
 */
export function findLeakedSecrets(texts: readonly string[], issued: readonly string[]): string[] {
  const haystack = texts.join('\n');
  const found = new Set<string>();
  const windowed = issued.filter((s) => SECRET_CHARS.test(s));
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
  for (const s of issued) if (!wanted.has(s) && haystack.includes(s)) found.add(s);
  return issued.flatMap((s, i) => (found.has(s) ? [`issued secret #${i} (${s.length} chars)`] : []));
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
