"""Keras 3 baselines for nnlite (needs the ``keras`` extra: TensorFlow + Keras).

- ``baselines.models``: the study's ANN, CNN and VGG16 in Keras, layer for layer as
  ``nnlite.zoo``, outputting logits.
- ``baselines.transfer``: ``to_keras(nnlite_model)`` / ``from_keras(keras_model)``.
- ``baselines.parity``: the numerical comparisons behind ``python -m baselines compare`` and the
  parity tests.
- ``baselines.train``: train a Keras baseline from the same ``nnlite.recipe.Recipe`` as
  nnlite (``python -m baselines.train MODEL [--tuned]``).
- ``baselines.cli``: the ``python -m baselines`` command line.

Run from the repository's root (the folder is not installed with nnlite). Importing
``baselines`` does not import TensorFlow; the functions do, when called.
"""
