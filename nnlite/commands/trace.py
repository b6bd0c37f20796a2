"""``nnlite trace``: one training step of a model, printed layer by layer."""
import os

from .. import datasets
from ..errors import ConfigError
from ..files import write_json
from ..inspect import trace
from ..loading import load_model
from ..optimizers import Adam
from ..zoo import build

MODELS = ("ann", "cnn", "vgg16")


def register(sub):
    p = sub.add_parser(
        "trace", help="run ONE training step and print forward/backward/update, layer by layer",
        description="Run one training step (Adam, sparse cross-entropy) on a batch of MNIST test "
                    "digits and print a transcript: each layer's forward output shape and "
                    "mean/std/min/max, the loss and dL/dlogits, each layer's backward gradient "
                    "shapes and norms (dL/d input and every parameter gradient), then the size "
                    "of every parameter's update.",
        epilog="Examples: `nnlite trace cnn`, `nnlite trace ann --batch-size 8`, "
               "`nnlite trace --model-file models/cnn.npz`. The model file is not modified.")
    p.add_argument("model", nargs="?", choices=MODELS,
                   help="zoo model to build with fresh weights (omit with --model-file)")
    p.add_argument("--model-file", metavar="PATH", help="trace a saved .npz model instead")
    p.add_argument("--batch-size", type=int, default=32, help="digits in the batch (default 32)")
    p.add_argument("--seed", type=int, default=0, help="weights seed for zoo models (default 0)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    p.set_defaults(func=_run)


def _test_batch(n):
    """The first n MNIST test digits as ((n, 28, 28, 1) float32 in [0, 1], (n,) labels).

    Reads only the two small test files (checksummed); falls back to load_mnist for its
    error message when they are not found.
    """
    for folder in datasets.candidate_dirs("mnist"):
        files = [datasets._find_file(folder, datasets.FILES[k]) for k in ("x_test", "y_test")]
        if all(files):
            x, y = (datasets.read_idx(f, datasets.SHA256["mnist"][os.path.basename(f).split(".gz")[0]])
                    for f in files)
            break
    else:
        (_, _), (x, y) = datasets.load_mnist()
    return (x[:n, :, :, None] / 255.0).astype("float32"), y[:n]


def _run(args):
    if args.batch_size <= 0 or args.batch_size > 10000:
        raise ConfigError(f"--batch-size must be in 1..10000, got {args.batch_size}")
    if args.model_file:
        model = load_model(args.model_file)
    elif args.model:
        model = build(args.model, seed=args.seed)
    else:
        raise ConfigError("name a model (ann, cnn, vgg16) or pass --model-file PATH")
    x, y = _test_batch(args.batch_size)
    model.compile(Adam(args.learning_rate))
    result = trace(model, x, y)
    if args.json:
        write_json(args.json, result.to_dict())
