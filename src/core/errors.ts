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
    super(printable(where ? `${where}: ${message}` : message));
    this.name = 'OnnxError';
  }
}

/** Characters that would act on a terminal or reorder text: C0/C1 controls, bidi overrides. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** Words longer than this are shortened in the middle. */
const MAX_WORD = 200;
const MAX_MESSAGE = 4000;

/**
 * A message that is safe to echo: names from a file arrive as written, so control characters and
 * escape sequences are shown as `\x1b`-style escapes, and a huge name (10 MB) is cut to its ends.
 */
export function printable(text: string): string {
  const escaped = text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
  // Split, not a RegExp: V8 overflows its stack matching \S{201,} over a 10 MB run.
  const shortened = escaped
    .split(' ')
    .map((w) => (w.length <= MAX_WORD ? w : `${w.slice(0, 120)}…[${formatCount(w.length - 160)} characters]…${w.slice(-40)}`))
    .join(' ');
  return shortened.length <= MAX_MESSAGE ? shortened : `${shortened.slice(0, MAX_MESSAGE)}…[${formatCount(shortened.length - MAX_MESSAGE)} characters]`;
}

/** Formats a byte count the way our messages do: 1,024 bytes. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}
