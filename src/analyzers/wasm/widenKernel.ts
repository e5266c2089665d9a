/**
 * FLOAT16 and BFLOAT16 codes widened to float32 inside a kernel's memory (widenKernel.wat), the
 * one widening in WebAssembly: the statistics kernel and the quantize kernel each instantiate it
 * on their own memory. Exact, the same floats as widenToFloat32's tables (its tests check all codes).
 */
import widenBytes from './widenKernel.wat';

/** n 16-bit codes at byte `src` of the memory become float32 at `dst` (brain: 1 for BFLOAT16, 0 for FLOAT16); src may be dst + 2n. */
export type Widen16 = (src: number, dst: number, n: number, brain: number) => void;

let compiled: WebAssembly.Module | undefined;

export function widen16On(memory: WebAssembly.Memory): Widen16 {
  compiled ??= new WebAssembly.Module(widenBytes);
  return (new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as { widen16: Widen16 }).widen16;
}
