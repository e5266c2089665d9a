/** A `.wat` file imported from TypeScript is assembled by the build into its WebAssembly bytes. */
declare module '*.wat' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}

/** The same module with its vector multiply-adds fused (relaxed SIMD), as scripts/build.mjs rewrites it. */
declare module '*.wat?fma' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
