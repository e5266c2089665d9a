/**
 * Execution providers for eval: the ones asked for (`--provider cuda`) are tried before the CPU
 * one. A provider this onnxruntime-node does not know is an error (a typo); one it knows but
 * cannot start (CUDA without its libraries) falls back to the CPU, with a note saying so.
 */

/** The providers a session is created with: those asked for, then the CPU one. */
export function providerList(asked: readonly string[]): string[] {
  return [...asked.filter((p) => p !== 'cpu'), 'cpu'];
}

/** Refuses names this onnxruntime-node build lacks; `known` is its list of backends. */
export function checkProviders(asked: readonly string[], known: readonly string[]): void {
  for (const p of asked) {
    if (!known.includes(p)) throw new Error(`execution provider '${p}' is not in this onnxruntime-node (it has ${known.join(', ')})`);
  }
}

export interface Started<S> {
  readonly session: S;
  /** The providers the session was created with. */
  readonly providers: readonly string[];
  /** Set when a provider asked for could not start: which one, why, and that the CPU ran instead. */
  readonly note?: string;
}

/** Creates a session with the providers asked for; if that fails and they were more than the CPU, with the CPU alone. */
export async function startSession<S>(create: (providers: string[]) => Promise<S>, asked: readonly string[]): Promise<Started<S>> {
  const providers = providerList(asked);
  if (providers.length === 1) return { session: await create(providers), providers };
  try {
    return { session: await create(providers), providers };
  } catch (e) {
    const why = String((e as Error).message ?? e).split('\n')[0].trim();
    const session = await create(['cpu']);
    const which = providers.slice(0, -1).join(', ');
    return { session, providers: ['cpu'], note: `--provider ${which} could not start (${why}): ran on the CPU provider` };
  }
}
