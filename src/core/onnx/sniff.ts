/**
 * A first look at a file's opening bytes: other well-known formats are named, and bytes that
 * cannot start a protobuf ModelProto are refused before any decoding.
 */
import { OnnxError } from '../errors';
import { WireReader, WireType } from '../protobuf/wire';
import { compile } from '../protobuf/schema';
import { ModelSchema } from './schema';

const SIGNATURES: readonly { magic: number[]; offset?: number; what: string }[] = [
  { magic: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { magic: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (a PyTorch .pt/.pth checkpoint or a zipped model?)' },
  { magic: [0x1f, 0x8b], what: 'a gzip file (decompress it first)' },
  { magic: [0x89, 0x48, 0x44, 0x46], what: 'an HDF5 file (a Keras .h5 model?)' },
  { magic: [0x54, 0x46, 0x4c, 0x33], offset: 4, what: 'a TensorFlow Lite model' },
  { magic: [0x4f, 0x52, 0x54, 0x4d], offset: 4, what: 'an ONNX Runtime .ort model (flatbuffer), not an .onnx protobuf' },
  { magic: [0x80], what: 'a Python pickle' },
  { magic: [0x7b], what: 'a JSON or text file' },
  { magic: [0x3c], what: 'an XML/HTML or text file' },
];

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Throws a 'not-onnx' error unless the first fields look like a ModelProto's. */
export function sniffModel(bytes: Uint8Array, where: string): void {
  if (bytes.length === 0) throw new OnnxError('not-onnx', 'the file is empty', where);
  for (const s of SIGNATURES) {
    const at = s.offset ?? 0;
    if (bytes.length >= at + s.magic.length && s.magic.every((b, i) => bytes[at + i] === b)) {
      throw new OnnxError('not-onnx', `not an ONNX model: it starts like ${s.what} (bytes ${hex(bytes)})`, where);
    }
  }
  const byNumber = compile(ModelSchema).byNumber;
  const reader = new WireReader(bytes, 0, Math.min(bytes.length, 1 << 20), () => where);
  const notOnnx = (why: string): never => {
    throw new OnnxError('not-onnx', `not an ONNX model: ${why} (first bytes ${hex(bytes)})`, where);
  };
  // The first few top-level fields must be well-formed: known fields with their wire type, or
  // fields from a newer ONNX (kept as unknown) with a wire type protobuf still uses.
  for (let i = 0; i < 4 && !reader.done; i++) {
    let tag: number;
    try {
      tag = reader.smallVarint('tag');
    } catch {
      return notOnnx('the bytes are not a protobuf message');
    }
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    const spec = byNumber.get(no);
    const expected = spec ? (spec.kind === 'message' || spec.kind === 'string' ? WireType.LengthDelimited : WireType.Varint) : undefined;
    if (no === 0 || (expected !== undefined && wire !== expected) || ![0, 1, 2, 5].includes(wire)) {
      notOnnx(`field ${no} with wire type ${wire} cannot start a ModelProto`);
    }
    if (wire === WireType.LengthDelimited) {
      const length = reader.smallVarint('length');
      // A truncated file is reported by the decoder, naming the field; stop looking here.
      if (length > bytes.length - reader.pos) return;
      reader.pos += length;
    } else {
      reader.skip(wire);
    }
  }
}
