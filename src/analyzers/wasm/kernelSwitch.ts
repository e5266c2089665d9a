/**
 * Whether the analysis uses its WebAssembly kernels (the default) or the plain JavaScript they
 * stand in for: a test runs a real model both ways and compares the figures.
 */
let enabled = true;

export function useKernels(on: boolean): void {
  enabled = on;
}

export function kernelsEnabled(): boolean {
  return enabled;
}
