"""Keras 3 baselines for nnlite (needs the ``keras`` extra: TensorFlow + Keras).

- ``baselines.models``: the study's ANN, CNN and VGG16 in Keras, layer for layer as
  ``nnlite.zoo``, outputting logits.
- ``baselines.transfer``: ``to_keras(nnlite_model)`` / ``from_keras(keras_model)``.
- ``baselines.parity``: the numerical comparisons behind ``nnlite compare`` and the parity tests.
- ``baselines.train``: train a Keras baseline with nnlite's data pipeline and protocol.

Importing ``baselines`` does not import TensorFlow; the functions do, when called.
"""
