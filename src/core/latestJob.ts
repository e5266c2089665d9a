/**
 * Work where only the latest request matters (a panel showing the current state of something
 * that changes in bursts): a new request aborts the one before and waits for a quiet spell before
 * it starts, so ten undos in a row cost one job, not ten running side by side.
 */
export class LatestJob {
  private current: { controller: AbortController; timer: ReturnType<typeof setTimeout> | undefined; settle: () => void } | undefined;

  /**
   * Runs `work` after `delayMs` unless another request comes first. Resolves to its result, or
   * to undefined when superseded or cancelled (then `work`'s signal is aborted, if it had started).
   */
  request<T>(work: (signal: AbortSignal) => Promise<T>, delayMs = 0): Promise<T | undefined> {
    this.cancel();
    const controller = new AbortController();
    return new Promise<T | undefined>((resolve, reject) => {
      const job = {
        controller,
        timer: undefined as ReturnType<typeof setTimeout> | undefined,
        settle: () => resolve(undefined),
      };
      this.current = job;
      job.timer = setTimeout(() => {
        job.timer = undefined;
        work(controller.signal).then(
          (value) => {
            if (this.current === job) this.current = undefined;
            resolve(controller.signal.aborted ? undefined : value);
          },
          (error: unknown) => {
            if (this.current === job) this.current = undefined;
            if (controller.signal.aborted) resolve(undefined);
            else reject(error);
          },
        );
      }, delayMs);
    });
  }

  /** Drops the pending or running request (its promise resolves to undefined). */
  cancel(): void {
    const job = this.current;
    if (!job) return;
    this.current = undefined;
    if (job.timer !== undefined) clearTimeout(job.timer);
    job.controller.abort();
    job.settle();
  }
}
