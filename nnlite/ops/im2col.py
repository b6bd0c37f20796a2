"""im2col and its adjoint for NHWC images: convolution as one matrix product.

For an input ``x`` of shape (N, H, W, C) and a (KH, KW) window with stride S, ``im2col``
returns ``cols`` of shape (N*OH*OW, KH*KW*C): row ``(n, i, j)`` holds the window whose top-left
corner is ``(i*S - pad_top, j*S - pad_left)``, flattened in (kh, kw, c) order — the order of a
Keras kernel (KH, KW, C, F) reshaped to (KH*KW*C, F). Out-of-image taps are zeros.
``col2im_add`` is its adjoint (col2im): it scatter-adds the rows back into a caller's dx.

Speed (measured, see benchmarks/results/REPORT.md): ``im2col`` is a strided VIEW of the
(zero-padded) input with shape (N, OH, OW, KH, KW, C), made contiguous by ONE copy — 2-3x faster
than a Numba gather loop. ``col2im_add`` is a serial Numba loop that adds whole channel vectors.
Both are serial: Conv2D calls them per chunk of images from its worker threads
(``parallel.py``). Their loop references are in tests/reference.py.
"""
import numba
import numpy as np


def conv_output_size(size, kernel, stride, padding):
    """Output length along one axis, with Keras' 'valid' / 'same' rules."""
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def same_padding(size, kernel, stride):
    """(before, after) zero padding that TensorFlow uses for 'same' (extra pad goes after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def window_geometry(input_shape, window, strides, padding):
    """(OH, OW, pad_top, pad_left) of a sliding window over an (H, W, C) input — shared by
    Conv2D and MaxPool2D so both follow Keras' 'valid' / TensorFlow's 'same' rules."""
    h, w = input_shape[0], input_shape[1]
    (kh, kw), (sh, sw) = window, strides
    oh, ow = conv_output_size(h, kh, sh, padding), conv_output_size(w, kw, sw, padding)
    if padding == "same":
        return oh, ow, same_padding(h, kh, sh)[0], same_padding(w, kw, sw)[0]
    return oh, ow, 0, 0


def used_taps(size, kernel, stride, pad_before, out):
    """(first, stop): the kernel taps along one axis that fall inside the image for at least one
    output position (conservatively, for strides > 1). The others only ever meet zero padding,
    e.g. a 3x3 'same' conv on a 1x1 input uses just the centre tap, so im2col can leave them
    out (9x less work for VGG16's last three convolutions on MNIST)."""
    return max(0, pad_before - (out - 1) * stride), min(kernel, size + pad_before)


def padded(x, kh, kw, stride, pad_top, pad_left, oh, ow):
    """x (N, H, W, C) with the zeros around it that an (OH, OW) output of a (KH, KW) window
    reads (x itself, contiguous, when it reads none)."""
    n, h, w, c = x.shape
    pad_bottom = max((oh - 1) * stride + kh - h - pad_top, 0)
    pad_right = max((ow - 1) * stride + kw - w - pad_left, 0)
    if not (pad_top or pad_left or pad_bottom or pad_right):
        return np.ascontiguousarray(x)
    xp = np.zeros((n, h + pad_top + pad_bottom, w + pad_left + pad_right, c), x.dtype)
    xp[:, pad_top:pad_top + h, pad_left:pad_left + w, :] = x
    return xp


def im2col(x, kh, kw, stride, pad_top, pad_left, oh, ow, out=None):
    """x (N, H, W, C) -> cols (N*OH*OW, KH*KW*C); out-of-image taps are 0. ``out``: a C-contiguous
    array of that shape and x's dtype to write into (reused buffers skip page faults)."""
    n, c = x.shape[0], x.shape[3]
    xp = padded(x, kh, kw, stride, pad_top, pad_left, oh, ow)
    sn, sh, sw, sc = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (n, oh, ow, kh, kw, c), (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False)
    if out is None:
        return windows.reshape(n * oh * ow, kh * kw * c)   # the one copy
    np.copyto(out.reshape(n, oh, ow, kh, kw, c), windows)
    return out


@numba.njit(cache=True, nogil=True)
def col2im_add(cols, dx, kh, kw, stride, pad_top, pad_left, oh, ow):
    """dx (N, H, W, C) += col2im(cols), the adjoint of im2col for cols (N*OH*OW, KH*KW*C),
    written into a caller's buffer (a chunk of a batch's dx). Overlapping taps are summed in a
    fixed order (deterministic); whole channel vectors are added: contiguous reads and writes."""
    n_img, h, w, c = dx.shape
    for n in range(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for a in range(kh):
                    y = i * stride - pad_top + a
                    if y < 0 or y >= h:
                        continue
                    for b in range(kw):
                        xx = j * stride - pad_left + b
                        if xx < 0 or xx >= w:
                            continue
                        base = (a * kw + b) * c
                        for ch in range(c):
                            dx[n, y, xx, ch] += cols[row, base + ch]
