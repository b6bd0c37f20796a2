"""nnlite.preprocess.transforms: scaling, standardising, deskewing, seeded augmentation."""
import numpy as np
import pytest

from nnlite.errors import ConfigError, InputError
from nnlite.preprocess import (AUGMENTATIONS, Augment, deskew, make_augment, moments, scale01,
                               standardize)


@pytest.fixture(scope="module")
def digits(mnist):
    """2,000 MNIST training digits, float32 (N, 28, 28, 1) in [0, 1], with labels."""
    (x, y), _ = mnist
    return scale01(x[:2000, :, :, None]), y[:2000].astype(np.int64)


def _upright_ring():
    """A '0': an axis-aligned elliptical ring centred exactly on the image centre."""
    r, c = np.mgrid[0:28, 0:28].astype(np.float64)
    d = ((r - 13.5) / 9.0) ** 2 + ((c - 13.5) / 6.0) ** 2
    return np.clip(1.0 - np.abs(d - 1.0) * 4, 0, 1).astype(np.float32)[None, :, :, None]


def test_scale_and_standardize(digits):
    x, _ = digits
    raw = np.round(x * 255).astype(np.uint8)
    s = scale01(raw)
    assert s.dtype == np.float32 and s.shape == raw.shape
    assert s.min() == 0.0 and s.max() == 1.0
    z = standardize(s)
    # MNIST's statistics, so a sample of MNIST comes out near mean 0, std 1
    assert abs(float(z.mean())) < 0.05 and abs(float(z.std()) - 1) < 0.05
    np.testing.assert_allclose(z, (s - 0.1307) / 0.3081, rtol=1e-5, atol=1e-5)


def test_deskew_of_upright_centred_digit_is_identity():
    ring = _upright_ring()
    _, skew = moments(ring[..., 0].astype(np.float64))
    assert abs(skew[0]) < 1e-9
    np.testing.assert_allclose(deskew(ring), ring, atol=1e-5)


def test_deskew_straightens_slanted_digits_and_is_idempotent(digits):
    x, _ = digits
    x = x[:300]
    d = deskew(x)
    assert d.shape == x.shape and d.dtype == np.float32
    assert d.min() >= 0 and d.max() <= 1
    _, before = moments(x[..., 0].astype(np.float64))
    centre, after = moments(d[..., 0].astype(np.float64))
    assert np.abs(after).mean() < 0.1 * np.abs(before).mean()
    np.testing.assert_allclose(centre, 13.5, atol=0.25)      # centre of mass moved to the middle
    # a deskewed digit is upright, so deskewing it again changes it little
    again = deskew(d)
    assert np.abs(again - d).mean() < 0.1 * np.abs(d - x).mean()


def test_deskew_accepts_channel_less_batches_and_blank_images():
    x = np.zeros((2, 28, 28), np.float32)
    x[1, 5:20, 12:15] = 1
    out = deskew(x)
    assert out.shape == (2, 28, 28)
    assert np.all(out[0] == 0)


@pytest.mark.parametrize("name", [n for n in AUGMENTATIONS if n != "none"])
def test_augment_keeps_shape_dtype_range_and_is_seeded(digits, name):
    x, _ = digits
    x = x[:64]
    aug = make_augment(name)
    a = aug(x, np.random.default_rng(7))
    b = aug(x, np.random.default_rng(7))
    c = aug(x, np.random.default_rng(8))
    assert a.shape == x.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0 + 1e-6
    np.testing.assert_array_equal(a, b)                  # same seed -> same images
    assert not np.array_equal(a, c)                      # another seed -> other images
    assert not np.allclose(a, x)                         # it did something
    np.testing.assert_array_equal(aug(x[:, :, :, 0], np.random.default_rng(7)), a[..., 0])


def test_augment_without_transform_is_identity(digits):
    x, _ = digits
    out = Augment(shift=0, rotation=0, scale=0)(x[:16], np.random.default_rng(0))
    np.testing.assert_allclose(out, x[:16], atol=1e-5)


def test_shift_moves_centre_of_mass_at_most_shift(digits):
    x, _ = digits
    x = x[:200]
    out = Augment(shift=2, rotation=0, scale=0)(x, np.random.default_rng(1))
    c0, _ = moments(x[..., 0].astype(np.float64))
    c1, _ = moments(out[..., 0].astype(np.float64))
    moved = np.abs(c1 - c0)
    assert moved.max() <= 2.0 + 0.3      # + small edge effects of interpolation
    assert moved.mean() > 0.5            # and it does move (uniform in [-2, 2]: mean 1)


def test_augmentation_keeps_each_image_with_its_label(digits):
    """Output i depends on input i only (images are never mixed or reordered)."""
    x, _ = digits
    x = x[:32].copy()
    aug = make_augment("affine+elastic")
    before = aug(x, np.random.default_rng(3))
    x[5] = 1.0 - x[5]
    after = aug(x, np.random.default_rng(3))
    changed = np.flatnonzero(np.abs(after - before).reshape(32, -1).max(1) > 0)
    assert changed.tolist() == [5]


def test_augmented_digits_stay_recognisable(mnist):
    """A 1-nearest-neighbour classifier (clean reference digits, blurred for some shift
    tolerance) still recognises most augmented digits: at least 80 % of its clean accuracy."""
    from scipy.ndimage import gaussian_filter
    (x, y), _ = mnist
    x = scale01(x[:3000, :, :, None])
    ref, y_ref, query, y_query = x[:2000], y[:2000], x[2000:], y[2000:3000]

    def features(a):
        return gaussian_filter(a[..., 0], (0, 1.5, 1.5)).reshape(len(a), -1)

    f_ref = features(ref)

    def accuracy(imgs):
        f = features(imgs)
        dist = (f ** 2).sum(1)[:, None] - 2 * f @ f_ref.T + (f_ref ** 2).sum(1)[None]
        return float(np.mean(y_ref[dist.argmin(1)] == y_query))

    clean = accuracy(query)
    assert clean > 0.9
    for name in ("affine", "elastic", "affine+elastic"):
        assert accuracy(make_augment(name)(query, np.random.default_rng(0))) >= 0.8 * clean


def test_augment_rejects_bad_settings_and_inputs():
    with pytest.raises(ConfigError):
        Augment(scale=1.5)
    with pytest.raises(ConfigError):
        Augment(rotation=-1)
    with pytest.raises(ConfigError):
        make_augment("sideways")
    with pytest.raises(InputError):
        Augment()(np.zeros((4, 28, 28, 3), np.float32), np.random.default_rng(0))
    with pytest.raises(InputError):
        deskew(np.zeros((28, 28), np.float32))
