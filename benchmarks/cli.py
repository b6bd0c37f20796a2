"""``python -m benchmarks``: benchmark nnlite against Keras in one run (``--help`` for the
options; ``make bench`` installs first, then runs it).

Three kinds of run, and where each writes (nothing committed is overwritten by accident):
    --verdict   is nnlite faster than Keras here? one line, ~90 s    runs/bench-verdict-TIME/
    --quick     smoke run: every stage runs; NOT a measurement         runs/bench-quick-TIME/
    (default)   the full benchmark                                     benchmarks/results/
A customised full run (--models, --batches, --repeats, threads, --no-...) writes under runs/
too; --out PATH.json chooses the file for any of them.
"""
import json
import os
import sys

from nnlite.commands.arguments import ArgumentParser, positive_float, positive_int
from nnlite.commands.common import CommandErrors, check_writable_folder
from nnlite.files import fresh_folder, write_json, write_text

PROG = "python -m benchmarks"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
CUSTOM = ("models", "repeats", "batches", "nnlite_threads", "keras_threads", "no_keras",
          "no_torch", "no_widths")


def add_arguments(p):
    p.add_argument("--verdict", action="store_true",
                   help="answer 'is nnlite faster than Keras here?' in one line: training "
                        "samples/s ratio per model at batch 32, in about 90 s")
    p.add_argument("--budget", type=positive_float, default=None, metavar="SECONDS",
                   help="--verdict's time budget (default 75 s, plus a second of start-up)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: cnn, batch 32, 2 very short repeats (under a minute); checks "
                        "that every stage runs, too short to compare engines (use --verdict)")
    p.add_argument("--json", action="store_true",
                   help="print the result as JSON on stdout (progress goes to stderr)")
    p.add_argument("--profile", metavar="MODEL", choices=["ann", "cnn", "vgg16"],
                   help="per-layer forward/backward times and GFLOP/s vs the sgemm peak, "
                        "for one nnlite model (ann, cnn or vgg16) at batch 32 and 128")
    p.add_argument("--models", nargs="+", choices=["ann", "cnn", "vgg16"],
                   help="models to benchmark (default: ann cnn vgg16; --quick: cnn)")
    p.add_argument("--repeats", type=positive_int,
                   help="interleaved repeats per measurement (default 5; --verdict: rounds)")
    p.add_argument("--no-keras", action="store_true", help="leave Keras out")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--batches", nargs="+", type=positive_int, metavar="B",
                   help="training batch sizes (default 16 32 64 128 256; --quick: 32)")
    p.add_argument("--nnlite-threads", type=positive_int, metavar="N",
                   help="worker threads for nnlite (sets NNLITE_NUM_THREADS; nnlite's default: "
                        "all cores)")
    p.add_argument("--keras-threads", type=positive_int, metavar="N",
                   help="TensorFlow intra- and inter-op threads (default: TensorFlow's own)")
    p.add_argument("--no-widths", action="store_true",
                   help="skip the VGG16 width 0.5 / 1.0 runs")
    p.add_argument("--out", metavar="PATH.json",
                   help="result JSON path (a .md table is written beside it); default: see above")
    p.add_argument("--plot", metavar="PNG", help="also draw samples/s vs batch size to this PNG")
    return p


def run(args):
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    if sum(map(bool, (args.verdict, args.quick, args.profile))) > 1:
        raise_usage("choose one of --verdict, --quick, --profile")
    if args.budget is not None and not args.verdict:
        raise_usage("--budget goes with --verdict")
    for path, flag in ((args.out, "--out"), (args.plot, "--plot")):
        if path:                   # refused now, not after minutes of measuring
            check_writable_folder(os.path.dirname(os.path.abspath(path)), flag)
    if args.profile:
        return _profile(args, log)
    if args.verdict:
        return _verdict(args, log)
    from .harness import run as run_bench
    from .tables import markdown, plot
    env = {"nnlite": {}, "keras": {}, "torch": {}}
    if args.nnlite_threads:          # PyTorch computes on as many threads as nnlite
        env["nnlite"]["NNLITE_NUM_THREADS"] = str(args.nnlite_threads)
        env["torch"]["NNLITE_BENCH_TORCH_THREADS"] = str(args.nnlite_threads)
    if args.keras_threads:
        env["keras"]["NNLITE_BENCH_TF_THREADS"] = str(args.keras_threads)
    result = run_bench(quick=args.quick, models=args.models, repeats=args.repeats,
                       with_keras=not args.no_keras, with_torch=not args.no_torch, env=env,
                       batches=args.batches, widths=not args.no_widths, log=log)
    for peer, reason in (result.get("skipped") or {}).items():
        log(f"{peer} left out: {reason}")
    out = args.out or _default_out(args, result["kind"])
    write_json(out, result)
    table = markdown(result)
    heading = (f"# nnlite benchmark ({result['kind']}, {result['started_utc']})"
               + ("\n\nSmoke run: timed runs this short say nothing about speed; "
                  "`python -m benchmarks --verdict` compares the engines." if args.quick else ""))
    write_text(os.path.splitext(out)[0] + ".md", f"{heading}\n\n{table}\n")
    if args.plot:
        plot(result, args.plot)
    if args.json:
        print(json.dumps(result))
    elif args.quick:
        samples = [r["samples"] for m in result["models"]
                   for r in m["engines"]["nnlite"]["train"].values()]
        print(f"smoke run OK: {', '.join(result['engines'])} each built, trained, predicted and "
              f"answered single images ({min(samples)} samples per timed run: too few for a "
              f"speed comparison; `{PROG} --verdict` answers that in about 90 s)")
    else:
        print(table)
    log(f"written: {out} (+ .md); {result['seconds']:.0f} s")
    return 0


def raise_usage(message):
    build_parser().error(message)


def _default_out(args, kind):
    """The committed benchmarks/results/ files only for the default full run; every other run
    gets a new folder under runs/."""
    if kind == "full" and not any(getattr(args, name) for name in CUSTOM):
        return os.path.join(RESULTS, "bench-full.json")
    return os.path.join(fresh_folder("runs", f"bench-{kind}"), f"bench-{kind}.json")


def _verdict(args, log):
    from .verdict import BUDGET_S, MODELS, ROUNDS, run_verdict
    result = run_verdict(models=args.models or MODELS, rounds=args.repeats or ROUNDS,
                         budget_s=args.budget or BUDGET_S, log=log)
    out = args.out or os.path.join(fresh_folder("runs", "bench-verdict"), "verdict.json")
    write_json(out, result)
    print(json.dumps(result) if args.json else result["line"])
    log(f"written: {out}")
    return 0


def _profile(args, log):
    from .profile import format_result, run as run_profile
    result = run_profile(args.profile, repeats=args.repeats or 20, log=log)
    out = args.out or os.path.join(RESULTS, f"profile-{args.profile}.json")
    write_json(out, result)
    print(json.dumps(result) if args.json else format_result(result))
    return 0


def build_parser():
    return add_arguments(ArgumentParser(
        prog=PROG,
        description="Train the zoo models (ann, cnn, vgg16 width 0.25) with nnlite and Keras in "
                    "the same run, interleaving repeats; report median samples/s, inference, "
                    "latency, peak RSS and the nnlite/Keras ratio. --verdict gives the one-line "
                    "answer; --quick is a smoke run; --profile MODEL shows per-layer times.",
        epilog=f"examples:  {PROG} --verdict    {PROG} --quick    {PROG} --profile cnn    "
               f"{PROG} --json > out.json"))


def main(argv=None):
    """Run ``python -m benchmarks`` -> exit code (2: refused, with the reason on stderr)."""
    errors = CommandErrors(PROG)
    with errors:
        return run(build_parser().parse_args(argv))
    return errors.exit_code
