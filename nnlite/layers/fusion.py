"""Fused execution of conv -> [BatchNorm ->] ReLU [-> MaxPool] chains, an execution detail that
``Sequential`` switches on (``Sequential.fuse``, default on).

The layers stay as they are, each with its own forward and backward: the reference the fused
path is tested against (tests/test_fused.py), and what runs whenever something watches the
layers one by one (observers, ``forward(outputs=...)``) or ``fuse`` is off. A ``Block`` runs one
chain with the passes of ``nnlite/ops/fused.py`` and leaves every result where the layers would:
the conv's and BatchNorm's ``grads``, BatchNorm's moving statistics. Chains fused (``plan``):

    Conv2D(activation=None) -> BatchNormalization -> ReLU [-> MaxPool2D]   (the CNN's blocks)
    Conv2D(activation=None) -> ReLU [-> MaxPool2D]
    Conv2D(activation="relu") -> MaxPool2D                                  (VGG16's block ends)

with pooling windows that do not overlap (strides = pool size, 'valid') and one dtype.

Forward: on the worker thread of each of the conv's chunks of images, right after its product
(``Conv2D.forward_chunks``), the chunk gets its bias and, in training, BatchNorm's per-chunk
statistics; then one pass per chunk normalises, applies ReLU and pools, keeping a 1-byte code
per pooled value. In inference the statistics are known, so all of it happens in the conv's
chunks. Backward: dgamma and dbeta from the pooled gradient, then on each conv chunk's thread,
right before its products (``Conv2D.backward_chunks``), one pass makes its dL/d(conv output).
BatchNorm's and ReLU's outputs are never materialised; the results equal the layer-by-layer
path bit for bit (the same formulas, every sum in the same order).
"""
import numpy as np

from ..errors import ConfigError
from ..ops import batchnorm, fused, map_chunks, sum_rows
from .activation_layers import ReLU
from .batchnorm import BatchNormalization
from .conv2d import Conv2D
from .pooling import MaxPool2D


class Block:
    """One fused chain; ``forward`` / ``backward`` as a layer's, over the chain's layers."""

    def __init__(self, conv, bn, relu, pool):
        self.conv, self.bn, self.pool = conv, bn, pool
        self.layers = [layer for layer in (conv, bn, relu, pool) if layer is not None]
        self.window = pool.pool_size if pool is not None else (1, 1)
        self.name = "+".join(layer.name for layer in self.layers)

    def forward(self, x, training=False):
        """x (N, H, W, C) -> the chain's output (N, OH // ph, OW // pw, F)."""
        conv, bn, (ph, pw), f = self.conv, self.bn, self.window, self.conv.filters
        oh, ow, _ = conv.compute_output_shape(x.shape[1:])
        out = np.empty((len(x), oh // ph, ow // pw, f), x.dtype)
        self._code = code = np.empty(out.shape, np.int8)
        self._training, none = training, np.empty(0, x.dtype)
        gamma, beta = (bn.params["gamma"], bn.params["beta"]) if bn else (none, none)
        self._mean, self._inv_std = bn.statistics() if bn and not training else (none, none)
        batch_stats = bn is not None and training
        if batch_stats:                     # each image's, as BatchNormalization's bn_stats
            sample_mean, sample_m2 = np.empty((len(x), f)), np.empty((len(x), f))

        def pool(part, y):                  # normalise, ReLU and pool one chunk of images
            fused.norm_relu_pool(y, self._mean, self._inv_std, gamma, beta, ph, pw,
                                 bn is not None, out[part], code[part])

        def epilogue(part, y):              # on the conv's worker thread, y still in cache
            if batch_stats:                 # bias + statistics of these images
                batchnorm.sample_stats(y.reshape(len(y), -1, f), conv.params["bias"], True,
                                       sample_mean[part], sample_m2[part])
            else:
                conv._bias_act(y.reshape(-1, f))        # bias (and the conv's own ReLU)
                pool(part, y)

        y = conv.forward_chunks(x, training, epilogue)[0]
        if batch_stats:
            mean, var = batchnorm.combine_stats(sample_mean, sample_m2, oh * ow)
            self._mean, self._inv_std = bn.statistics((mean.astype(x.dtype),
                                                       var.astype(x.dtype)))
            map_chunks(lambda part: pool(part, y[part]), conv._chunks)
        # for the NaN/Inf report: the conv's output, then the chain's for the layers after it
        self.outputs = [y] + [out] * (len(self.layers) - 1)
        return out

    def backward(self, grad_out, need_input_grad=True):
        """dL/d(chain output) -> dL/dx (None when not ``need_input_grad``)."""
        conv, bn, (ph, pw) = self.conv, self.bn, self.window
        y, code, mean, inv_std = conv._y, self._code, self._mean, self._inv_std
        scale = mean_dbeta = mean_dgamma = mean
        if bn is not None:                  # per image as BatchNormalization: the same sums
            dgamma, dbeta = np.empty((len(y), y.shape[-1])), np.empty((len(y), y.shape[-1]))
            map_chunks(lambda part: fused.pool_param_grads(
                grad_out[part], code[part], y[part], mean, inv_std, ph, pw, dgamma[part],
                dbeta[part]), conv._chunks)
            bn.grads["gamma"], bn.grads["beta"] = (sum_rows(a).astype(y.dtype)
                                                   for a in (dgamma, dbeta))
            scale = bn.params["gamma"] * inv_std
            m = y.size // y.shape[-1] if self._training else np.inf   # inference: constants
            mean_dbeta, mean_dgamma = (bn.grads[k] / m for k in ("beta", "gamma"))  # as Numba

        def dz_of(part):                    # on the conv's worker thread, before its products
            dz = np.empty(y[part].shape, y.dtype)
            fused.pool_input_grad(grad_out[part], code[part], y[part], mean, inv_std, scale,
                                  mean_dbeta, mean_dgamma, ph, pw, bn is not None, dz)
            return dz
        return conv.backward_chunks(dz_of, need_input_grad)


def _block_at(layers, i):
    """The fused chain starting at layers[i], or None."""
    conv, rest = layers[i], list(layers[i + 1:i + 4])
    if not isinstance(conv, Conv2D) or conv.activation not in (None, "relu"):
        return None
    bn = relu = pool = None
    if conv.activation is None:
        if rest and isinstance(rest[0], BatchNormalization):
            bn = rest.pop(0)
        if not rest or type(rest[0]) is not ReLU:
            return None
        relu = rest.pop(0)
    if (rest and isinstance(rest[0], MaxPool2D) and rest[0].padding == "valid"
            and rest[0].strides == rest[0].pool_size and np.prod(rest[0].pool_size) < 128):
        pool = rest.pop(0)
    block = Block(conv, bn, relu, pool)
    if len(block.layers) == 1 or any(layer.dtype != conv.dtype for layer in block.layers):
        return None
    return block


class Plan:
    """The units a model's forward and backward run, in order: Blocks and single layers."""

    def __init__(self, layers):
        self.layers, self.units, i = list(layers), [], 0     # units: [(first index, unit)]
        while i < len(layers):
            block = _block_at(layers, i)
            self.units.append((i, block or layers[i]))
            i += len(block.layers) if block else 1
        self.fused = any(isinstance(unit, Block) for _, unit in self.units)
        self.outputs = []                   # every layer's output or its chain's (NaN report)

    def forward(self, x, training=False):
        self.outputs = []
        for _, unit in self.units:
            x = unit.forward(x, training=training)
            self.outputs += unit.outputs if isinstance(unit, Block) else [x]
        return x

    def backward(self, grad, stop_at=0, need_input_grad=True):
        """As ``Sequential.backward``; ``stop_at`` must not fall inside a fused chain."""
        for start, unit in reversed(self.units):
            size = len(unit.layers) if isinstance(unit, Block) else 1
            if start + size <= stop_at:
                break
            if start < stop_at:
                raise ConfigError(f"backward cannot stop at layer {stop_at}, inside the fused "
                                  f"chain {unit.name}; set model.fuse = False for that")
            grad = unit.backward(grad, need_input_grad=need_input_grad or start > stop_at)
        return grad


def plan_for(model):
    """The Plan a model's forward runs fused, or None: ``model.fuse`` off, observers attached
    (they see every layer), or no chain to fuse. Kept on the model while its layers stay."""
    if not model.fuse or model.observers:
        return None
    plan = model.__dict__.get("_fusion_plan")
    if plan is None or plan.layers != model.layers:
        plan = model._fusion_plan = Plan(model.layers)
    return plan if plan.fused else None
