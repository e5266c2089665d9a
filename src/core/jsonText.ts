/**
 * JSON from a user's file or option, parsed with bounds: a nesting limit checked by a scan
 * before parsing (deep nesting otherwise overflows the stack in code that walks the value),
 * and every failure a named error.
 */
import { OnnxError, type OnnxErrorCode } from './errors';

export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of objects and arrays in `text` (strings skipped); stops counting past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

export function parseJsonText(text: string, where: string, code: OnnxErrorCode = 'recipe'): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new OnnxError(code, `nests objects or lists deeper than ${MAX_JSON_DEPTH} levels`, where);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new OnnxError(code, `is not valid JSON (${(e as Error).message})`, where);
  }
}
