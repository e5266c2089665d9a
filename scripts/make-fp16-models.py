#!/usr/bin/python3
"""FLOAT16 versions of the PP-OCRv4 rec and det models, made with the converter the dtype test
corpus uses (scripts/onnx_fp16.py; graph inputs and outputs become FLOAT16 too):

    /usr/bin/python3 scripts/make-fp16-models.py [OUT_DIR]

reads .cache/models/ch_PP-OCRv4_{rec,det}_infer.onnx (fetched by `npm run fetch-models`), writes
OUT_DIR/ch_PP-OCRv4_{rec,det}_infer_fp16.onnx (default .cache/models/fp16/), then runs
scripts/check-fp16-models.mjs, which checks both run in onnxruntime-node and prints the SQNR of
their outputs against the FLOAT models'. Needs Debian python3-onnx and python3-numpy, and node.
"""
import os
import subprocess
import sys

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from onnx_fp16 import to_fp16  # noqa: E402

MODELS = os.path.join(ROOT, ".cache", "models")


def main():
    out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(MODELS, "fp16")
    os.makedirs(out, exist_ok=True)
    for name in ("ch_PP-OCRv4_rec_infer", "ch_PP-OCRv4_det_infer"):
        model = onnx.load(os.path.join(MODELS, name + ".onnx"))
        half = to_fp16(model)
        onnx.checker.check_model(half)
        path = os.path.join(out, name + "_fp16.onnx")
        onnx.save(half, path)
        print(f"{path}: {os.path.getsize(path)} bytes")
    subprocess.run(["node", os.path.join(HERE, "check-fp16-models.mjs"), out], check=True)


if __name__ == "__main__":
    main()
