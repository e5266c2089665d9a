#!/usr/bin/python3
"""The peer of `onnx-compress analyze MODEL --json` in `npm run bench` (issue 17): the script a user
would write with onnx + numpy (OpenBLAS) for the same per-layer figures. Run as a whole process.

    analysis_numpy.py MODEL.onnx                 every figure
    analysis_numpy.py MODEL.onnx --no-redundancy statistics only

Every float initializer (and Constant node's tensor): min, max, mean, std, zero fraction, 256-bin histogram. Each node's main
weight (its largest initializer of rank >= 2) also gets INT8 and INT4 per-channel SQNR (symmetric,
round half to even, as ONNX QuantizeLinear), the entropy of its INT8 codes, a 16-cluster 1-D k-means
SQNR (Lloyd on the sorted values with prefix sums) and rank90/95/99 from `eigvalsh` of the smaller
Gram matrix (float64, so the ranks are the exact ones). Prints JSON: {layers: [{weight, ...}]}.
Needs Debian python3-onnx python3-numpy (numpy on libopenblas0-pthread).
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def channel_axis(op, node, rank):
    if op == "ConvTranspose":
        return 1
    if op == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    if op == "MatMul":
        return rank - 1
    return 0


def sqnr(signal, noise):
    return float("inf") if noise == 0 else float(10 * np.log10(signal / noise))


def per_channel(x, axis, qmax):
    """Codes and SQNR of symmetric per-channel quantization along `axis`."""
    moved = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    absmax = np.abs(moved).max(axis=1, keepdims=True)
    scale = np.where(absmax > 0, (absmax / qmax).astype(np.float32), np.float32(1))
    codes = np.clip(np.round(moved / scale), -qmax, qmax)
    noise = moved.astype(np.float64) - (codes * scale).astype(np.float64)
    return codes, float((noise * noise).sum())


def kmeans_sse(x, k, iterations=100):
    """Lloyd's k-means on sorted 1-D data: each cluster a run of the sorted values, its mean from prefix sums."""
    s = np.sort(x.astype(np.float64))
    n = s.size
    p1 = np.concatenate(([0.0], np.cumsum(s)))
    p2 = np.concatenate(([0.0], np.cumsum(s * s)))
    centres = s[((np.arange(k) + 0.5) * n / k).astype(np.int64)]
    for _ in range(iterations):
        cuts = np.concatenate(([0], np.searchsorted(s, (centres[1:] + centres[:-1]) / 2), [n]))
        counts = np.diff(cuts)
        sums = p1[cuts[1:]] - p1[cuts[:-1]]
        new = np.where(counts > 0, sums / np.maximum(counts, 1), centres)
        if np.array_equal(new, centres):
            break
        centres = new
    counts = np.diff(cuts)
    sums = p1[cuts[1:]] - p1[cuts[:-1]]
    squares = p2[cuts[1:]] - p2[cuts[:-1]]
    return float((squares - sums * sums / np.maximum(counts, 1)).sum())


def ranks(w):
    rows = w.shape[0]
    m = w.reshape(rows, -1).astype(np.float64)
    g = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    e = np.clip(np.linalg.eigvalsh(g), 0, None)[::-1]
    total = e.sum()
    if total == 0:
        return [0, 0, 0]
    cumulative = np.cumsum(e)
    return [int(np.searchsorted(cumulative, f * total * (1 - 1e-12)) + 1) for f in (0.9, 0.95, 0.99)]


def stats(x):
    x = x.astype(np.float32, copy=False).ravel()
    lo, hi = float(x.min()), float(x.max())
    return {
        "min": lo,
        "max": hi,
        "mean": float(x.mean(dtype=np.float64)),
        "std": float(x.std(dtype=np.float64)),
        "zeroFraction": float(np.count_nonzero(x == 0) / x.size),
        "histogram": np.histogram(x, bins=256, range=(lo, hi))[0].tolist(),
    }


def redundancy(w, axis):
    x = w.astype(np.float32)
    signal = float((x.astype(np.float64) ** 2).sum())
    codes8, noise8 = per_channel(x, axis, 127)
    _, noise4 = per_channel(x, axis, 7)
    counts = np.bincount((codes8.ravel() + 128).astype(np.int64), minlength=256)
    p = counts[counts > 0] / codes8.size
    r90, r95, r99 = ranks(x)
    return {
        "int8SqnrDb": sqnr(signal, noise8),
        "int4SqnrDb": sqnr(signal, noise4),
        "entropyBitsInt8": float(-(p * np.log2(p)).sum()),
        "cluster16SqnrDb": sqnr(signal, kmeans_sse(x.ravel(), 16)),
        "rank90": r90,
        "rank95": r95,
        "rank99": r99,
    }


def analyze(path, with_redundancy):
    model = onnx.load(path)
    inits = {t.name: t for t in model.graph.initializer}
    # Exporters such as Paddle2ONNX keep every weight in a Constant node instead of an initializer.
    for node in model.graph.node:
        if node.op_type == "Constant":
            inits.update({node.output[0]: a.t for a in node.attribute if a.name == "value"})
    layers = []
    for node in model.graph.node:
        weights = [(name, numpy_helper.to_array(inits[name])) for name in node.input if name in inits]
        weights = [(n, a) for n, a in weights if a.dtype in (np.float32, np.float16) and a.size > 0]
        if not weights:
            continue
        layer = {"name": node.name, "tensors": {n: stats(a) for n, a in weights}}
        matrices = [(n, a) for n, a in weights if a.ndim >= 2]
        if with_redundancy and matrices:
            name, w = max(matrices, key=lambda t: t[1].size)
            layer["weight"] = name
            layer.update(redundancy(w, channel_axis(node.op_type, node, w.ndim)))
        layers.append(layer)
    return {"layers": layers}


if __name__ == "__main__":
    print(json.dumps(analyze(sys.argv[1], "--no-redundancy" not in sys.argv[2:])))
