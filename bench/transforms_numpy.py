#!/usr/bin/python3
"""The numpy side of `npm run bench` (transforms), on the weights our side wrote:

    transforms_numpy.py quantize MANIFEST.json [RUNS]  per-channel symmetric INT8, as our quantizer does it
    transforms_numpy.py svd MANIFEST.json [OUT]  numpy.linalg.svd of each matrix; OUT gets the
                                                 singular values (float64, matrix after matrix)

MANIFEST.json: {"file": "weights.f32", "tensors": [{"offset": elements, "dims": [...], "axis": k,
"source": "float16", "scale": "float16"}]} for quantize (axis null: one scale for the tensor;
source and scale, float32 when absent: a FLOAT16 weight's restored values are rounded to float16,
float16 scales are rounded up to float16); {"file": ..., "matrices": [{"offset":
elements, "rows": r, "cols": c}]} for svd. The weights are loaded before any timing starts.
Prints JSON with the seconds of the timed part (best of 3, or of RUNS) and a checksum of the results.

quantize times two things on the same arrays in memory (no file read or write in either):
  "codes": int8 codes and float32 scales only (abs-max per channel, x / scale, rint, clip);
  "same": what our quantizer hands back for each tensor besides: the restored values
          (code · scale, float32), the signal and noise energies (float64), the largest error,
          the range of old and new values and their two 64-bin histograms on it.
"""
import json
import os
import sys
import time

import numpy as np


def load(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    data = np.fromfile(os.path.join(os.path.dirname(manifest_path), manifest["file"]), dtype=np.float32)
    return manifest, data


def codes_and_scales(x, axis, scale_type="float32"):
    reduce = tuple(i for i in range(x.ndim) if i != axis) if axis is not None else None
    absmax = np.abs(x).max(axis=reduce, keepdims=True)
    if scale_type == "float16":
        # The least float16 not below absmax / 127, as our FLOAT16 scales are rounded.
        exact = absmax.astype(np.float64) / 127
        half = exact.astype(np.float16)
        half = np.where(half.astype(np.float64) < exact, np.nextafter(half, np.float16(np.inf)), half)
        scale = np.where(absmax > 0, half.astype(np.float32), np.float32(1)).astype(np.float32)
    else:
        scale = np.where(absmax > 0, absmax / np.float32(127), np.float32(1)).astype(np.float32)
    return np.clip(np.rint(x / scale), -127, 127).astype(np.int8), scale


def figures(x, q, scale, source="float32"):
    """Our quantizer's other outputs: restored values (in the weight's type), energies, largest error, range, histograms."""
    r = q.astype(np.float32) * scale
    if source == "float16":
        r = r.astype(np.float16).astype(np.float32)
    xd = x.astype(np.float64).ravel()
    rd = r.astype(np.float64).ravel()
    d = xd - rd
    signal, noise, max_error = float(xd @ xd), float(d @ d), float(np.abs(d).max())
    lo, hi = min(xd.min(), rd.min()), max(xd.max(), rd.max())
    k = 64 / (hi - lo) if hi > lo else 0.0
    before = np.bincount(np.minimum(((xd - lo) * k).astype(np.int64), 63), minlength=64)
    after = np.bincount(np.minimum(((rd - lo) * k).astype(np.int64), 63), minlength=64)
    return r, signal, noise, max_error, before, after


def quantize(manifest_path, runs=3):
    manifest, data = load(manifest_path)
    arrays = []
    for t in manifest["tensors"]:
        n = int(np.prod(t["dims"]))
        arrays.append((data[t["offset"]:t["offset"] + n].reshape(t["dims"]), t["axis"], t.get("source", "float32"), t.get("scale", "float32")))
    out = {"weights": int(sum(a[0].size for a in arrays))}
    for mode in ("codes", "same"):
        best = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            for x, axis, source, scale_type in arrays:
                q, scale = codes_and_scales(x, axis, scale_type)
                if mode == "same":
                    figures(x, q, scale, source)
            best = min(best, time.perf_counter() - t0)
        out[mode] = best
    # Untimed: the sum of |code| over every weight, to check both sides made the same codes.
    out["checksum"] = sum(int(np.abs(codes_and_scales(x, axis, st)[0]).sum(dtype=np.int64)) for x, axis, _, st in arrays)
    return out


def svd(manifest_path, out=None):
    manifest, data = load(manifest_path)
    mats = [data[m["offset"]:m["offset"] + m["rows"] * m["cols"]].reshape(m["rows"], m["cols"]) for m in manifest["matrices"]]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0.0
        for m in mats:
            s = np.linalg.svd(m, full_matrices=False, compute_uv=True)[1]
            total += float(s[0])
        best = min(best, time.perf_counter() - t0)
    if out:
        np.concatenate([np.linalg.svd(m.astype(np.float64), compute_uv=False) for m in mats] or [np.zeros(0)]).astype(np.float64).tofile(out)
    return {"seconds": best, "weights": int(sum(m.size for m in mats)), "matrices": len(mats)}


if __name__ == "__main__":
    more = sys.argv[3] if len(sys.argv) > 3 else None
    print(json.dumps(quantize(sys.argv[2], int(more or 3)) if sys.argv[1] == "quantize" else svd(sys.argv[2], more)))
