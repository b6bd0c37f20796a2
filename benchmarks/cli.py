"""``python -m benchmarks``: benchmark nnlite against Keras in one run (``--help`` for the
options; ``make bench`` installs first, then runs it)."""
import argparse
import json
import os
import sys
import time

from nnlite.errors import ConfigError, NNLiteError

PROG = "python -m benchmarks"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def add_arguments(p):
    p.add_argument("--quick", action="store_true",
                   help="CI smoke run: cnn, batch 32, 2 short repeats (under a minute)")
    p.add_argument("--json", action="store_true",
                   help="print the result as JSON on stdout (progress goes to stderr)")
    p.add_argument("--profile", metavar="MODEL", choices=["ann", "cnn", "vgg16"],
                   help="per-layer forward/backward times and GFLOP/s vs the sgemm peak, "
                        "for one nnlite model (ann, cnn or vgg16) at batch 32 and 128")
    p.add_argument("--models", nargs="+", choices=["ann", "cnn", "vgg16"],
                   help="models to benchmark (default: ann cnn vgg16; --quick: cnn)")
    p.add_argument("--repeats", type=int, help="interleaved repeats per measurement (default 5)")
    p.add_argument("--no-keras", action="store_true", help="time nnlite only")
    p.add_argument("--batches", nargs="+", type=int, metavar="B",
                   help="training batch sizes (default 16 32 64 128 256; --quick: 32)")
    p.add_argument("--nnlite-threads", type=int, metavar="N",
                   help="worker threads for nnlite (sets NNLITE_NUM_THREADS; nnlite's default: all cores)")
    p.add_argument("--keras-threads", type=int, metavar="N",
                   help="TensorFlow intra- and inter-op threads (default: TensorFlow's own)")
    p.add_argument("--no-widths", action="store_true",
                   help="skip the VGG16 width 0.5 / 1.0 runs")
    p.add_argument("--out", help="result JSON path (default benchmarks/results/bench-<kind>.json)")
    p.add_argument("--plot", help="also draw samples/s vs batch size to this PNG")
    return p


def run(args):
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.profile:
        return _profile(args, log)
    from .harness import run as run_bench
    from .tables import markdown, plot
    for name in ("repeats", "nnlite_threads", "keras_threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.batches and min(args.batches) < 1:
        raise ConfigError(f"--batches must be positive, got {args.batches}")
    env = {"nnlite": {}, "keras": {}}
    if args.nnlite_threads:
        env["nnlite"]["NNLITE_NUM_THREADS"] = str(args.nnlite_threads)
    if args.keras_threads:
        env["keras"]["NNLITE_BENCH_TF_THREADS"] = str(args.keras_threads)
    result = run_bench(quick=args.quick, models=args.models, repeats=args.repeats,
                       with_keras=not args.no_keras, env=env, batches=args.batches,
                       widths=not args.no_widths, log=log)
    if result["keras_skipped"]:
        log(f"Keras half skipped: {result['keras_skipped']}")
    out = args.out or os.path.join(RESULTS, f"bench-{result['kind']}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    table = markdown(result)
    with open(os.path.splitext(out)[0] + ".md", "w") as f:
        f.write(f"# nnlite benchmark ({result['kind']}, {result['started_utc']})\n\n{table}\n")
    if args.plot:
        plot(result, args.plot)
    if args.json:
        print(json.dumps(result))
    else:
        print(table)
        print(f"\nwritten: {out} (+ .md); {result['seconds']:.0f} s", file=sys.stderr)
    return 0


def _profile(args, log):
    from .profile import format_profile, profile_model, sgemm_peak
    peak = sgemm_peak()
    profiles = []
    for batch in (32, 128):
        log(f"profiling {args.profile} at batch {batch} ...")
        profiles.append(profile_model(args.profile, batch, repeats=args.repeats or 20))
    result = {"kind": "profile", "model": args.profile, "sgemm_peak_gflops": peak,
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "load_average": os.getloadavg(), "profiles": profiles}
    out = args.out or os.path.join(RESULTS, f"profile-{args.profile}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    if args.json:
        print(json.dumps(result))
    else:
        print("\n\n".join(format_profile(p, peak) for p in profiles))
    return 0


def build_parser():
    return add_arguments(argparse.ArgumentParser(
        prog=PROG,
        description="Train the zoo models (ann, cnn, vgg16 width 0.25) with nnlite and Keras in "
                    "the same run, interleaving repeats; report median samples/s, inference, "
                    "latency, peak RSS and the nnlite/Keras ratio. Writes JSON + a markdown "
                    "table under benchmarks/results/. --profile MODEL shows per-layer times.",
        epilog=f"examples:  {PROG} --quick    {PROG} --profile cnn    "
               f"{PROG} --json > out.json"))


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except NNLiteError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
