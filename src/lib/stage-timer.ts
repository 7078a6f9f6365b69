/**
 * Wall-clock time per pipeline stage, reported in the `Server-Timing` header (W3C Server Timing)
 * so benchmarks and operators can see where a call's time went.
 */
export class StageTimer {
  readonly #stages: Array<[string, number]> = [];
  #last = performance.now();

  /** Closes the stage that started at the previous mark (or construction). */
  mark(stage: string): void {
    const now = performance.now();
    this.#stages.push([stage, now - this.#last]);
    this.#last = now;
  }

  /** Milliseconds recorded for `stage` (summed when it was marked more than once). */
  get(stage: string): number {
    return this.#stages.reduce((sum, [name, ms]) => (name === stage ? sum + ms : sum), 0);
  }

  /** `plan;dur=0.41, verify;dur=3.20, ...` */
  header(): string {
    return this.#stages.map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(", ");
  }
}
