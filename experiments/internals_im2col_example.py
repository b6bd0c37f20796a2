"""The im2col / col2im worked example of docs/backprop.md, computed by nnlite.ops.

    python -m experiments.internals_im2col_example     # prints the Markdown block of the doc

tests/test_internals.py checks that docs/backprop.md contains exactly this output, so the
numbers in the doc are the ones nnlite computes.
"""
import numpy as np


def _matrix(a, fmt="{:g}"):
    width = max(len(fmt.format(v)) for v in np.asarray(a).ravel())
    return "\n".join("    [" + "  ".join(fmt.format(v).rjust(width) for v in row) + "]"
                     for row in np.asarray(a))


def example():
    """x: one 3x3 single-channel image, a 2x2 kernel, stride 1, 'valid' -> 2x2 output."""
    from nnlite.ops import col2im_add, im2col

    def col2im(cols, n, h, w, c, kh, kw, stride, top, left, oh, ow):   # into a zero dx
        dx = np.zeros((n, h, w, c), cols.dtype)
        col2im_add(cols, dx, kh, kw, stride, top, left, oh, ow)
        return dx
    x = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)
    kernel = np.array([[1.0, 2.0], [0.0, -1.0]]).reshape(2, 2, 1, 1)   # (KH, KW, C, F)
    cols = im2col(x, 2, 2, 1, 0, 0, 2, 2)                              # (N*OH*OW, KH*KW*C)
    y = (cols @ kernel.reshape(4, 1)).reshape(2, 2)
    direct = np.array([[(x[0, i:i + 2, j:j + 2, 0] * kernel[:, :, 0, 0]).sum() for j in range(2)]
                       for i in range(2)])
    assert np.array_equal(y, direct)
    dy = np.array([[1.0, 2.0], [3.0, 4.0]])                            # upstream dL/dy
    dcols = dy.reshape(4, 1) @ kernel.reshape(4, 1).T                  # (4, 4)
    dx = col2im(dcols, 1, 3, 3, 1, 2, 2, 1, 0, 0, 2, 2)[0, :, :, 0]
    counts = col2im(np.ones_like(cols), 1, 3, 3, 1, 2, 2, 1, 0, 0, 2, 2)[0, :, :, 0]
    # col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)> for any c
    c = np.random.default_rng(0).standard_normal(cols.shape)
    assert np.isclose((cols * c).sum(), (x * col2im(c, 1, 3, 3, 1, 2, 2, 1, 0, 0, 2, 2)).sum())
    return {"x": x[0, :, :, 0], "kernel": kernel[:, :, 0, 0], "cols": cols, "y": y, "dy": dy,
            "dcols": dcols, "dx": dx, "counts": counts}


def example_markdown():
    e = example()
    return "\n".join([
        "```text",
        "x: one 3x3 image, 1 channel (N=1, H=W=3, C=1)",
        _matrix(e["x"]),
        "",
        "K: a 2x2 kernel, 1 input and 1 output channel (KH=KW=2, stride 1, 'valid' -> 2x2 output)",
        _matrix(e["kernel"]),
        "",
        "cols = im2col(x): one row per output position (i, j), the 2x2 window flattened",
        _matrix(e["cols"]),
        "",
        "y = cols @ K.reshape(4, 1), reshaped to (2, 2)  (= sliding the kernel directly)",
        _matrix(e["y"]),
        "",
        "backward: the upstream gradient dy = dL/dy",
        _matrix(e["dy"]),
        "",
        "dcols = dy.reshape(4, 1) @ K.reshape(4, 1).T   (and dK = cols.T @ dy.reshape(4, 1))",
        _matrix(e["dcols"]),
        "",
        "dx = col2im(dcols): each row is added back where its window came from",
        _matrix(e["dx"]),
        "",
        "col2im(ones): how many windows cover each pixel",
        _matrix(e["counts"]),
        "```",
    ])


if __name__ == "__main__":
    print(example_markdown())
