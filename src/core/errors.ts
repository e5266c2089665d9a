/**
 * Every problem with a model file surfaces as an OnnxError: a code a caller can branch on,
 * a `where` that names the place (tensor, field, byte offset), and a one-line message for people.
 */
export type OnnxErrorCode =
  | 'not-onnx' // the bytes are not an ONNX model at all
  | 'truncated' // a length or value runs past the end of the data
  | 'corrupt' // the bytes are protobuf-shaped but break the ONNX schema
  | 'limit' // a size or depth beyond what we accept (checked before allocating)
  | 'shape-mismatch' // a tensor's data disagrees with its dims and data type
  | 'external-data' // an external-data reference is unsafe, missing or out of range
  | 'unsupported' // a valid construct we cannot handle here
  | 'io' // the file system failed
  | 'recipe'; // a recipe that does not say something we can do

export class OnnxError extends Error {
  constructor(
    readonly code: OnnxErrorCode,
    message: string,
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'OnnxError';
  }
}

/** Formats a byte count the way our messages do: 1,024 bytes. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}
