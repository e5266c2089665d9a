/** A `.wat` file imported from TypeScript is assembled by the build into its WebAssembly bytes. */
declare module '*.wat' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
