/**
 * A point where long analysis work lets the event loop run (so a worker can receive its cancel
 * message) and stops if it was cancelled. Free when there is no signal.
 */
export function checkpointFor(signal: AbortSignal | undefined): () => Promise<void> {
  if (!signal) return async () => {};
  return async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal.throwIfAborted();
  };
}
