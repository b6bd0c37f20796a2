"""``nnlite bench``: benchmark nnlite against Keras in one run (the harness is ``benchmarks/``)."""


def register(sub):
    p = sub.add_parser(
        "bench", help="time training and inference of nnlite vs Keras (interleaved repeats)",
        description="Train the zoo models (ann, cnn, vgg16 width 0.25) with nnlite and Keras in "
                    "the same run, interleaving repeats; report median samples/s, inference, "
                    "latency, peak RSS and the nnlite/Keras ratio. Writes JSON + a markdown "
                    "table under benchmarks/results/. --profile MODEL shows per-layer times.",
        epilog="examples:  nnlite bench --quick    nnlite bench --profile cnn    "
               "nnlite bench --json > out.json")
    from benchmarks.cli import add_arguments
    add_arguments(p)
    p.set_defaults(func=_run)


def _run(args):
    from benchmarks.cli import run
    return run(args)
