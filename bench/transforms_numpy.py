#!/usr/bin/python3
"""The numpy side of `npm run bench` (transforms), on the weights our side wrote:

    transforms_numpy.py quantize MANIFEST.json   per-channel symmetric INT8, as our quantizer does it
    transforms_numpy.py svd MANIFEST.json [OUT]  numpy.linalg.svd of each matrix; OUT gets the
                                                 singular values (float64, matrix after matrix)

MANIFEST.json: {"file": "weights.f32", "tensors": [{"offset": elements, "dims": [...], "axis": k}]}
for quantize; {"file": ..., "matrices": [{"offset": elements, "rows": r, "cols": c}]} for svd.
Prints JSON with the seconds of the timed part (best of 3) and a checksum of the results.
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


def quantize(manifest_path):
    manifest, data = load(manifest_path)
    arrays = []
    for t in manifest["tensors"]:
        n = int(np.prod(t["dims"]))
        arrays.append((data[t["offset"]:t["offset"] + n].reshape(t["dims"]), t["axis"]))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        codes = 0
        for x, axis in arrays:
            reduce = tuple(i for i in range(x.ndim) if i != axis)
            absmax = np.abs(x).max(axis=reduce, keepdims=True)
            scale = np.where(absmax > 0, absmax / np.float32(127), np.float32(1)).astype(np.float32)
            q = np.clip(np.rint(x / scale), -127, 127).astype(np.int8)
            codes += int(q.size)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best, "weights": codes}


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
    print(json.dumps(quantize(sys.argv[2]) if sys.argv[1] == "quantize" else svd(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
