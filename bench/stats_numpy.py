#!/usr/bin/python3
"""The numpy side of `npm run bench` (analysis): per-layer statistics of every float initializer
and Constant tensor of a model (min, max, mean, std, zero fraction, 256-bin histogram), and
scikit-learn's KMeans(16) on a float32 file. Prints JSON with the timings.

    stats_numpy.py stats MODEL.onnx
    stats_numpy.py kmeans VALUES.f32
"""
import json
import sys
import time

import numpy as np


def tensors(model):
    from onnx import numpy_helper

    def walk(g):
        for t in g.initializer:
            yield numpy_helper.to_array(t)
        for n in g.node:
            for a in n.attribute:
                if n.op_type == "Constant" and a.name == "value":
                    yield numpy_helper.to_array(a.t)
                if a.type == 5:
                    yield from walk(a.g)
                for sg in a.graphs:
                    yield from walk(sg)

    return [t for t in walk(model.graph) if t.dtype in (np.float32, np.float16) and t.size > 1]


def stats(path):
    import onnx

    model = onnx.load(path)
    arrays = tensors(model)
    weights = sum(a.size for a in arrays)
    runs = []
    for _ in range(6):  # the first run warms up, as on our side
        t0 = time.perf_counter()
        for a in arrays:
            x = a.astype(np.float32, copy=False).ravel()
            lo, hi = x.min(), x.max()
            x.mean(dtype=np.float64)
            x.std(dtype=np.float64)
            np.count_nonzero(x == 0)
            np.histogram(x, bins=256, range=(lo, hi))
        runs.append(time.perf_counter() - t0)
    timed = sorted(runs[1:])
    return {"weights": int(weights), "tensors": len(arrays), "seconds": timed[2], "best": timed[0]}


def kmeans(path):
    from sklearn.cluster import KMeans

    x = np.fromfile(path, dtype=np.float32).reshape(-1, 1)
    t0 = time.perf_counter()
    km = KMeans(n_clusters=16, n_init=1, random_state=0).fit(x)
    seconds = time.perf_counter() - t0
    signal = float((x.astype(np.float64) ** 2).sum())
    return {"weights": int(x.size), "seconds": seconds, "sqnrDb": float(10 * np.log10(signal / km.inertia_))}


if __name__ == "__main__":
    print(json.dumps(stats(sys.argv[2]) if sys.argv[1] == "stats" else kmeans(sys.argv[2])))
