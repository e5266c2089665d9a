"""A small segmentation model (one-channel sigmoid mask) trained here on rendered shapes, and a
held-out set of such images, for measuring compression on a mask task when no mask model ships
with the tests. Seeded: the same model and data on every run.

    /usr/bin/python3 scripts/make-mask-model.py OUT_DIR [STEPS=400]

Needs Debian's python3-torch, python3-numpy and python3-onnx. Writes OUT_DIR/mask-unet.onnx
(input x [batch, 3, 128, 128], output mask [batch, 1, 128, 128]) and OUT_DIR/mask-data/x.npy.
"""
import os
import sys

import numpy as np
import torch
from torch import nn

SIZE = 128
torch.manual_seed(18)
torch.set_num_threads(1)
rng = np.random.default_rng(18)


def scene(n):
    """Textured backgrounds with 1-3 ellipses of random colour; the mask is the ellipses."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    images = np.empty((n, 3, SIZE, SIZE), np.float32)
    masks = np.zeros((n, 1, SIZE, SIZE), np.float32)
    for i in range(n):
        fx, fy, phase = rng.uniform(2, 9), rng.uniform(2, 9), rng.uniform(0, 6.3)
        base = 0.5 + 0.2 * np.sin(fx * 6.3 * xx + phase) * np.cos(fy * 6.3 * yy)
        img = np.stack([base * rng.uniform(0.4, 1.0) for _ in range(3)])
        for _ in range(rng.integers(1, 4)):
            cx, cy = rng.uniform(0.15, 0.85, 2)
            rx, ry = rng.uniform(0.06, 0.22, 2)
            inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
            colour = rng.uniform(0, 1, 3)
            img[:, inside] = colour[:, None] * 0.8 + 0.1 * img[:, inside]
            masks[i, 0, inside] = 1
        images[i] = img + rng.normal(0, 0.04, img.shape)
    return images, masks


class MaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        act = nn.ReLU
        self.down = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), act(), nn.Conv2d(16, 32, 3, stride=2, padding=1), act(), nn.Conv2d(32, 64, 3, stride=2, padding=1), act())
        self.mid = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1), act(), nn.Conv2d(64, 64, 3, padding=1), act())
        self.up = nn.Sequential(nn.ConvTranspose2d(64, 32, 2, stride=2), act(), nn.ConvTranspose2d(32, 16, 2, stride=2), act(), nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x):
        return torch.sigmoid(self.up(self.mid(self.down(x))))


def main(out, steps):
    os.makedirs(os.path.join(out, 'mask-data'), exist_ok=True)
    net = MaskNet()
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    for step in range(steps):
        x, y = scene(8)
        loss = nn.functional.binary_cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f'step {step}: loss {loss.item():.4f}', flush=True)
    net.eval()
    x, y = scene(16)
    with torch.no_grad():
        p = net(torch.from_numpy(x)).numpy()
    inter, union = ((p > 0.5) & (y > 0.5)).sum(), ((p > 0.5) | (y > 0.5)).sum()
    print(f'held-out IoU against the drawn masks: {inter / union:.4f}')
    torch.onnx.export(net, torch.from_numpy(x[:1]), os.path.join(out, 'mask-unet.onnx'), input_names=['x'], output_names=['mask'], dynamic_axes={'x': {0: 'batch'}, 'mask': {0: 'batch'}}, opset_version=13)
    np.save(os.path.join(out, 'mask-data', 'x.npy'), x)
    print(f'wrote {out}/mask-unet.onnx and {len(x)} held-out images in {out}/mask-data')


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 400)
