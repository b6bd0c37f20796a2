"""Image warps on batches of single-channel images (N, H, W): bilinear sampling of a source
position per output pixel, affine maps, and the moments deskew built from them.

For each OUTPUT pixel the caller computes where it comes from in the INPUT image and
``bilinear_sample`` interpolates there; points outside the image read 0 (black background).
Bilinear interpolation is a convex combination of input pixels and 0, so a warped image never
leaves the input's value range. ``nnlite.preprocess`` (deskew, augmentation) and the
``Deskew`` layer use these.
"""
import numba
import numpy as np


def bilinear_sample(imgs, rows, cols):
    """out[n, i, j] = imgs[n] at (rows[n, i, j], cols[n, i, j]), 0 outside.

    imgs (N, H, W); rows, cols (N, H, W) source coordinates in pixels -> float32 (N, H, W)."""
    return _bilinear(np.ascontiguousarray(imgs, np.float32),
                     np.ascontiguousarray(rows, np.float32), np.ascontiguousarray(cols, np.float32))


@numba.njit(cache=True, nogil=True)
def _bilinear(imgs, rows, cols):
    # one fused loop: NumPy's version needed ~20 temporaries per batch and cost 10x more
    n, h, w = imgs.shape
    out = np.zeros((n, h, w), np.float32)
    for k in range(n):
        for i in range(h):
            for j in range(w):
                r, c = rows[k, i, j], cols[k, i, j]
                r0, c0 = int(np.floor(r)), int(np.floor(c))
                fr, fc = r - r0, c - c0
                acc = np.float32(0.0)
                for dr in range(2):
                    rr = r0 + dr
                    if rr < 0 or rr >= h:
                        continue
                    wr = fr if dr else 1 - fr
                    for dc in range(2):
                        cc = c0 + dc
                        if cc < 0 or cc >= w:
                            continue
                        wc = fc if dc else 1 - fc
                        acc += wr * wc * imgs[k, rr, cc]
                out[k, i, j] = acc
    return out


def affine_coords(matrix, centre_out, centre_in, h, w):
    """Source (rows, cols), each (N, H, W), of  src = matrix @ (dst - centre_out) + centre_in.

    matrix (N, 2, 2) maps output offsets (row, col) to input offsets; centres (N, 2)."""
    m = matrix.astype(np.float32)
    ii, jj = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                         indexing="ij")
    dr = ii[None] - centre_out[:, 0, None, None]
    dc = jj[None] - centre_out[:, 1, None, None]
    rows = m[:, 0, 0, None, None] * dr + m[:, 0, 1, None, None] * dc + centre_in[:, 0, None, None]
    cols = m[:, 1, 0, None, None] * dr + m[:, 1, 1, None, None] * dc + centre_in[:, 1, None, None]
    return rows, cols


def moments(imgs):
    """imgs (N, H, W) -> centre of mass (N, 2) as (row, col), skew cov(row, col) / var(row) (N,).

    Blank images get the image centre and skew 0."""
    n, h, w = imgs.shape
    total = imgs.sum(axis=(1, 2))
    safe = np.where(total > 0, total, 1.0)
    r = np.arange(h, dtype=np.float64)[None, :, None]
    c = np.arange(w, dtype=np.float64)[None, None, :]
    mr = (imgs * r).sum(axis=(1, 2)) / safe
    mc = (imgs * c).sum(axis=(1, 2)) / safe
    dr = r - mr[:, None, None]
    dc = c - mc[:, None, None]
    var_r = (imgs * dr * dr).sum(axis=(1, 2)) / safe
    cov = (imgs * dr * dc).sum(axis=(1, 2)) / safe
    blank = (total <= 0) | (var_r <= 1e-8)
    skew = np.where(blank, 0.0, cov / np.where(blank, 1.0, var_r))
    centre = np.stack([np.where(total > 0, mr, (h - 1) / 2), np.where(total > 0, mc, (w - 1) / 2)],
                      axis=1)
    return centre, skew


def deskew_images(imgs):
    """imgs (N, H, W) -> float32 (N, H, W): each digit sheared upright, its centre of mass
    moved to the image centre.

    A digit slanted so that col - col_mean grows by ``skew`` per row below the centre is
    sampled at col_src = col_dst + skew * (row_dst - centre) (Le Cun et al.'s "deskewing")."""
    n, h, w = imgs.shape
    centre, skew = moments(np.asarray(imgs, np.float64))
    matrix = np.zeros((n, 2, 2), np.float32)
    matrix[:, 0, 0] = 1.0
    matrix[:, 1, 1] = 1.0
    matrix[:, 1, 0] = skew
    centre_out = np.tile(np.array([(h - 1) / 2, (w - 1) / 2], np.float32), (n, 1))
    rows, cols = affine_coords(matrix, centre_out, centre.astype(np.float32), h, w)
    return bilinear_sample(imgs, rows, cols)
