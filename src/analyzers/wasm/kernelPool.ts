/**
 * Kernels lent out one caller at a time: a caller awaits between blocks of work, so two analyses
 * running at once on one thread each need a kernel (and memory) of their own.
 */
import { kernelsEnabled } from './kernelSwitch';

/**
 * A `with(f)` that runs `f` with a kernel of its own for as long as it runs, made by `make` when
 * none is idle; null where `make` throws (no WebAssembly SIMD) or the kernels are switched off
 * (then JavaScript does the work).
 */
export function kernelPool<K>(make: () => K): <T>(f: (kernel: K) => Promise<T>) => Promise<T | null> {
  const idle: K[] = [];
  let available = true;
  return async (f) => {
    if (!available || !kernelsEnabled()) return null;
    let kernel = idle.pop();
    if (!kernel) {
      try {
        kernel = make();
      } catch {
        available = false;
        return null;
      }
    }
    try {
      return await f(kernel);
    } finally {
      idle.push(kernel);
    }
  };
}

/**
 * The thread's one kernel, for work that runs to its end without awaiting (so one is enough),
 * made on first use; null where `make` throws (no WebAssembly SIMD) or the kernels are switched
 * off (then JavaScript does the work).
 */
export function threadKernel<K>(make: () => K): () => K | null {
  let kernel: K | null | undefined;
  return () => {
    if (!kernelsEnabled()) return null;
    if (kernel === undefined) {
      try {
        kernel = make();
      } catch {
        kernel = null;
      }
    }
    return kernel;
  };
}
