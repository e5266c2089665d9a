#!/usr/bin/env python3
"""
Trains the bundled sample model, samples/digits-cnn.onnx, and writes its labelled test set,
samples/digits-test.npz. Run once by a maintainer (needs Debian's python3-torch, python3-onnx,
python3-sklearn); the outputs are committed, so nothing else needs Python.

Data: the UCI "Optical Recognition of Handwritten Digits" set as shipped inside scikit-learn
(sklearn.datasets.load_digits: 1,797 8x8 images, 16 grey levels, CC BY 4.0,
https://archive.ics.uci.edu/dataset/80). The model is ours (MIT, like the project).
"""
import json
import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits

torch.manual_seed(0)
digits = load_digits()
x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]  # N x 1 x 8 x 8 in [0, 1]
y = digits.target.astype(np.int64)
order = np.random.default_rng(0).permutation(len(x))
test, train = order[:360], order[360:]

model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 4 x 4
    nn.Flatten(),
    nn.Linear(64 * 4 * 4, 256), nn.ReLU(),
    nn.Linear(256, 10),
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
for epoch in range(30):
    perm = torch.randperm(len(xt))
    for i in range(0, len(xt), 64):
        idx = perm[i:i + 64]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
model.eval()
with torch.no_grad():
    logits = model(torch.from_numpy(x[test])).numpy()
accuracy = float((logits.argmax(1) == y[test]).mean())

torch.onnx.export(model, torch.zeros(1, 1, 8, 8), 'samples/digits-cnn.onnx', input_names=['image'], output_names=['logits'],
                  dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
np.savez('samples/digits-test.npz', image=x[test], labels=y[test])
with open('samples/digits-reference.json', 'w') as f:
    json.dump({'testSamples': int(len(test)), 'top1Accuracy': accuracy, 'torch': torch.__version__}, f, indent=2)
print(f'test accuracy {accuracy:.4f} on {len(test)} held-out digits')
