// The emulator's virtual clock. Time flows with real time; tests move it forward (or set it)
// to make credentials age, expire and secrets' recovery windows pass without waiting.

export class VirtualClock {
  private offsetMs = 0;

  /** Real time plus the offset set by advance()/set(). */
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves virtual time forward (or back, with a negative value). */
  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`advance(ms): expected a finite number, got ${ms}`);
    this.offsetMs += ms;
  }

  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }

  /** Makes now() return `date` at this instant; time keeps flowing from there. */
  set(date: Date): void {
    this.offsetMs = date.getTime() - Date.now();
  }

  /** The offset from real time in ms (persisted by the standalone server). */
  get offset(): number {
    return this.offsetMs;
  }

  set offset(ms: number) {
    this.offsetMs = ms;
  }
}
