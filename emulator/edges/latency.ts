// A realistic handshake latency on the service edges: real endpoints take tens to hundreds of
// milliseconds to accept a TLS connection (and a CQL session), loopback takes none, so a
// bench of verified rotations against the edges would otherwise measure probes as free.
// Applied once per connection, before the edge answers its first byte.

/**
 * Milliseconds per connection: a fixed number, a uniform range, or a function (tests count
 * its calls; a bench may draw from its own distribution).
 */
export type HandshakeLatency = number | { readonly minMs: number; readonly maxMs: number } | (() => number);

/** The per-connection delay `latency` describes; 0 when undefined. Bad input is refused. */
export function latencyOf(
  latency: HandshakeLatency | undefined,
  random: () => number = Math.random,
): () => number {
  if (latency === undefined) return () => 0;
  if (typeof latency === 'function') return latency;
  if (typeof latency === 'number') {
    if (!(Number.isFinite(latency) && latency >= 0)) {
      throw new RangeError(`handshakeLatency: expected milliseconds >= 0, got ${latency}`);
    }
    return () => latency;
  }
  const { minMs, maxMs } = latency;
  if (!(Number.isFinite(minMs) && Number.isFinite(maxMs) && minMs >= 0 && maxMs >= minMs)) {
    throw new RangeError(
      `handshakeLatency: expected { minMs, maxMs } with 0 <= minMs <= maxMs, got ${JSON.stringify(latency)}`,
    );
  }
  return () => minMs + random() * (maxMs - minMs);
}
