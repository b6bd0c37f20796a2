"""Image preprocessing for 28x28 digits: scaling, standardisation, deskewing, augmentation.

Every function takes a batch of images shaped (N, H, W) or (N, H, W, 1) and returns the same
shape as float32. The geometric transforms share one bilinear sampler and the deskew kernel in
``nnlite/ops/warp.py`` (a transformed image never leaves the input's value range).

- ``scale01``     uint8 0-255 -> float32 [0, 1].
- ``standardize`` (x - mean) / std with MNIST's statistics (0.1307, 0.3081 on [0, 1] pixels).
- ``deskew``      moments-based shear correction: measure each digit's slant from its second
                  moments (cov(x, y) / var(y)) and shear it upright about its centre of mass,
                  which is moved to the image centre.
- ``Augment``     seeded, on-the-fly random affine (shift, rotation, scale) and elastic
                  distortion (Simard, Steinkraus & Platt 2003: a random displacement field,
                  Gaussian-smoothed with sigma, scaled by alpha). Use as
                  ``model.fit(..., batch_transform=Augment(...))``; it is called as
                  ``augment(xb, rng)`` on each training batch with the fit loop's generator.
"""
import functools

import numpy as np
from scipy.ndimage import gaussian_filter

from ..datasets import MNIST_MEAN, MNIST_STD
from ..errors import ConfigError, InputError
from ..ops.warp import affine_coords, bilinear_sample, deskew_images
from ..ops.warp import moments  # noqa: F401  (nnlite.preprocess.moments, as before)


def _as_batch(x, name="x"):
    """-> (float32 array (N, H, W), had_channel_axis). Accepts (N,H,W) or (N,H,W,1)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name}: expected a numeric image array, got dtype {arr.dtype}")
    if arr.ndim == 4 and arr.shape[-1] == 1:
        return np.ascontiguousarray(arr[..., 0], dtype=np.float32), True
    if arr.ndim == 3:
        return np.ascontiguousarray(arr, dtype=np.float32), False
    raise InputError(f"{name}: expected images shaped (N, H, W) or (N, H, W, 1), "
                     f"got {arr.shape}")


def _restore(x, channel):
    return x[..., None] if channel else x


def scale01(x):
    """uint8 (or 0-255 float) images -> float32 in [0, 1]; same shape.

    Scaled in place in the float32 copy ``_as_batch`` makes, so a whole dataset costs one
    float32 copy, not two; a caller's own contiguous float32 array is never written to."""
    arr = np.asarray(x)
    imgs, channel = _as_batch(arr)
    if np.may_share_memory(imgs, arr):
        return _restore(imgs * np.float32(1.0 / 255.0), channel)
    imgs *= np.float32(1.0 / 255.0)       # the same float32 product as above, bit for bit
    return _restore(imgs, channel)


def standardize(x, mean=MNIST_MEAN, std=MNIST_STD):
    """(x - mean) / std for images already in [0, 1]; same shape, float32."""
    if not std > 0:
        raise ConfigError(f"standardize: std must be > 0, got {std}")
    imgs, channel = _as_batch(x)
    return _restore((imgs - np.float32(mean)) / np.float32(std), channel)


# -- deskew -----------------------------------------------------------------------------------
def deskew(x):
    """Shear each digit upright and move its centre of mass to the image centre; same shape.
    The kernel is ``nnlite.ops.warp.deskew_images`` (the ``Deskew`` layer uses it too)."""
    imgs, channel = _as_batch(x)
    return _restore(deskew_images(imgs), channel)


# -- augmentation ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _gaussian_matrix(size, sigma):
    """(size, size) matrix K with K @ v = 1-D Gaussian blur of v (zero padding, 3 sigma)."""
    eye = np.eye(size, dtype=np.float64)
    return gaussian_filter(eye, (sigma, 0), mode="constant", truncate=3.0).astype(np.float32)


class Augment:
    """Random affine + optional elastic distortion, drawn independently for every image.

    shift: max translation in pixels (uniform in [-shift, shift], per axis).
    rotation: max rotation in degrees (uniform in [-rotation, rotation]).
    scale: max relative zoom (factor uniform in [1 - scale, 1 + scale]).
    elastic_alpha, elastic_sigma: Simard's elastic field: uniform(-1, 1) displacements per pixel,
        Gaussian-smoothed with ``elastic_sigma`` px, multiplied by ``elastic_alpha`` px
        (0 disables it). Simard used alpha 34, sigma 4 on 29x29 images; milder values
        (alpha 8-12, sigma 3-4) keep MNIST digits legible.
    p: probability that an image is transformed at all (others pass through unchanged).

    ``augment(x, rng)`` -> transformed copy of x, same shape and dtype float32; labels are
    unaffected. With the same generator state it returns the same images.
    """

    def __init__(self, shift=2.0, rotation=10.0, scale=0.1, elastic_alpha=0.0,
                 elastic_sigma=4.0, p=1.0):
        for name, value in (("shift", shift), ("rotation", rotation), ("scale", scale),
                            ("elastic_alpha", elastic_alpha)):
            if not value >= 0:
                raise ConfigError(f"Augment: {name} must be >= 0, got {value}")
        if not 0 <= scale < 1:
            raise ConfigError(f"Augment: scale must be in [0, 1), got {scale}")
        if not elastic_sigma > 0:
            raise ConfigError(f"Augment: elastic_sigma must be > 0, got {elastic_sigma}")
        if not 0 <= p <= 1:
            raise ConfigError(f"Augment: p must be in [0, 1], got {p}")
        self.shift, self.rotation, self.scale = float(shift), float(rotation), float(scale)
        self.elastic_alpha, self.elastic_sigma, self.p = (float(elastic_alpha),
                                                          float(elastic_sigma), float(p))

    def __call__(self, x, rng):
        imgs, channel = _as_batch(x)
        n, h, w = imgs.shape
        angle = np.deg2rad(rng.uniform(-self.rotation, self.rotation, n))
        zoom = rng.uniform(1 - self.scale, 1 + self.scale, n)
        move = rng.uniform(-self.shift, self.shift, (n, 2))
        # output offset -> input offset: inverse of (rotate by angle, zoom)
        cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
        matrix = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)
        centre = np.array([(h - 1) / 2, (w - 1) / 2])
        centre_out = (centre + move).astype(np.float32)
        centre_in = np.tile(centre, (n, 1)).astype(np.float32)
        rows, cols = affine_coords(matrix, centre_out, centre_in, h, w)
        if self.elastic_alpha > 0:
            field = self._elastic_field(rng, n, h, w)
            rows = rows + self.elastic_alpha * field[0]
            cols = cols + self.elastic_alpha * field[1]
        out = bilinear_sample(imgs, rows, cols)
        if self.p < 1:
            keep = rng.random(n) >= self.p
            out[keep] = imgs[keep]
        return _restore(out, channel)

    def _elastic_field(self, rng, n, h, w):
        """(2, n, h, w) uniform(-1, 1) displacement fields (rows, cols) in px, Gaussian-smoothed
        (zero padding, truncated at 3 sigma) as K_h @ field @ K_w^T: the same numbers as
        scipy.ndimage.gaussian_filter, ~7x faster on 28x28 batches."""
        field = rng.uniform(-1, 1, (2, n, h, w)).astype(np.float32)
        return _gaussian_matrix(h, self.elastic_sigma) @ field @ \
            _gaussian_matrix(w, self.elastic_sigma).T

    def get_config(self):
        return {"shift": self.shift, "rotation": self.rotation, "scale": self.scale,
                "elastic_alpha": self.elastic_alpha, "elastic_sigma": self.elastic_sigma,
                "p": self.p}

    def __repr__(self):
        args = ", ".join(f"{k}={v:g}" for k, v in self.get_config().items())
        return f"Augment({args})"


# named recipes used by the CLI (--augment NAME) and the experiments
AUGMENTATIONS = {
    "none": None,
    "affine": dict(shift=2.0, rotation=10.0, scale=0.1),
    "elastic": dict(shift=0.0, rotation=0.0, scale=0.0, elastic_alpha=10.0, elastic_sigma=3.5),
    "affine+elastic": dict(shift=2.0, rotation=10.0, scale=0.1, elastic_alpha=8.0,
                           elastic_sigma=3.5),
}


def make_augment(name):
    """``Augment`` for a recipe name in ``AUGMENTATIONS`` (None for 'none')."""
    if name not in AUGMENTATIONS:
        raise ConfigError(f"unknown augmentation {name!r}; choose from {sorted(AUGMENTATIONS)}")
    cfg = AUGMENTATIONS[name]
    return None if cfg is None else Augment(**cfg)
