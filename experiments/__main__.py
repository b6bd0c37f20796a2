"""The study driver: the whole study end to end, one job at a time, resumable.

    python -m experiments list [--only PATTERN ...]     every job, its state, its estimate
    python -m experiments calibrate [--engines nnlite keras] [--steps 5]
    python -m experiments run [--only PATTERN ...] [--dry-run] [--keep-going]
    python -m experiments report                         REPORT.md and parity.md, regenerated
    python -m experiments job ID                         one job in this process

The jobs and their order: ``experiments/plan.py``. PATTERN is a job id pattern
("seed_protocol/*", "tuned/cnn-*") or a substring of ids.

``run`` starts every job that is not done in its own process (``python -m experiments job ID``),
in the plan's order: a finished job (its result file present, same recipe, timed) is skipped, an
interrupted one resumes from its checkpoint. Ctrl+C (or ``kill -INT`` to the driver's process
group, also when it was started in the background) lets a running nnlite job save a checkpoint;
``run`` again continues from there (a Keras job starts again). The bar counts estimated seconds
of work; the time left is the estimate of the remaining jobs (``calibrate``'s cost table,
corrected by the measured time of each finished run) scaled, per engine, by measured / estimated
time of that engine's jobs already run in this launch; a job waiting for a choice (the tuned
seeds 1, 2) is costed with the longest candidate it may get. Each job's wall time, CPU time (its
process, from getrusage), load average at start and end and the machine go to
results/study_log.json; its output to $NNLITE_RUNS/study-logs/.
"""
import argparse
import os
import resource
import signal
import subprocess
import sys
import threading
import time

from experiments import costs, plan
from experiments.common import ROOT, RESULTS, RUNS, machine
from nnlite.commands.common import CommandErrors
from nnlite.files import write_json

LOG_FILE = os.path.join(RESULTS, "study_log.json")


def duration(seconds):
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _table(jobs, table):
    """[(job, state, detail, estimate)] for ``jobs``."""
    rows = []
    for job in jobs:
        state, detail = job.state()
        rows.append((job, state, detail, costs.job_seconds(table, job, state, detail)))
    return rows


def _print_plan(rows, table, out=sys.stdout):
    for i, (job, state, detail, est) in enumerate(rows, 1):
        print(f"{i:4d}  {state:8s} {duration(est):>9s}  {job.id}"
              + (f"  ({detail})" if detail else ""), file=out)
    counts = {}
    for _, state, _, _ in rows:
        counts[state] = counts.get(state, 0) + 1
    known = [est for _, _, _, est in rows if est is not None]
    unknown = len(rows) - len(known)
    print(f"{len(rows)} jobs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
          + f". Estimated time left: {duration(sum(known))}"
          + (f" (+ {unknown} jobs without an estimate)" if unknown else "")
          + (f"; costs calibrated {table['calibrated_utc']} on {table['machine']['cpu']}, "
             f"{table['machine']['cores']} cores" if "calibrated_utc" in table
             else "; no cost table yet: run `python -m experiments calibrate`"), file=out)


def cmd_list(args):
    table = costs.load()
    jobs = plan.study_jobs()
    _print_plan(_table(plan.select(jobs, args.only), table), table)
    orphans = _orphans(jobs)
    if orphans and not args.only:
        print(f"{len(orphans)} result folders belong to no job of the plan (earlier protocols; "
              "the reports do not read them): " + ", ".join(orphans))


def _orphans(jobs):
    """Run folders under the results that no TrainJob of the plan writes."""
    owned = {job.id for job in jobs if hasattr(job, "experiment")}
    found = []
    for experiment in sorted({job.id.split("/")[0] for job in jobs if hasattr(job, "experiment")}):
        folder = os.path.join(RESULTS, experiment)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if (os.path.isfile(os.path.join(folder, name, "run.json"))
                    and f"{experiment}/{name}" not in owned):
                found.append(f"{experiment}/{name}")
    return found


def cmd_calibrate(args):
    table = costs.calibrate(tuple(args.engines), steps=args.steps)
    print(f"wrote {costs.COSTS_FILE}")
    _print_plan(_table(plan.study_jobs(), table), table)


def _after_interrupt(job):
    if job.engine == "nnlite":       # fit saved a checkpoint before re-raising
        return "its checkpoint is saved and `python -m experiments run` resumes it"
    return "`python -m experiments run` starts it again"


def cmd_job(args):
    jobs = {job.id: job for job in plan.study_jobs()}
    if args.id not in jobs:
        raise SystemExit(f"no job {args.id!r}; `python -m experiments list` shows them")
    try:
        jobs[args.id].run()
    except KeyboardInterrupt:
        print(f"{args.id}: interrupted; {_after_interrupt(jobs[args.id])}", file=sys.stderr)
        return 130


def _read_log():
    import json
    try:
        with open(LOG_FILE) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {"launches": [], "jobs": []}


def _run_child(job, status):
    """Run ``job`` in its own process, relaying its output above the bar; -> (exit code,
    ledger entry)."""
    from tqdm import tqdm
    log_dir = os.path.join(RUNS, "study-logs")
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, job.id.replace("/", "__") + ".log")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    entry = {"job": job.id, "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "load_average_1_5_15min_start": list(os.getloadavg())}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "job", job.id], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)

    def relay():
        with open(log_path, "a") as log:
            for line in proc.stdout:
                log.write(line)
                tqdm.write(line.rstrip("\n"), file=sys.stderr)
    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        while proc.poll() is None:
            status(time.perf_counter() - t0)
            time.sleep(1.0)
    except KeyboardInterrupt:          # the job got the Ctrl+C too: let it save its checkpoint
        tqdm.write("Ctrl+C: waiting for the job to save its checkpoint (again: stop now)",
                   file=sys.stderr)
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
        raise
    finally:
        reader.join(timeout=5)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    entry.update(finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 wall_s=time.perf_counter() - t0, exit_code=proc.returncode,
                 cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                 load_average_1_5_15min_end=list(os.getloadavg()),
                 log="$NNLITE_RUNS/" + os.path.relpath(log_path, RUNS))
    return proc.returncode, entry


def cmd_run(args):
    from tqdm import tqdm
    table = costs.load()
    rows = [r for r in _table(plan.select(plan.study_jobs(), args.only), table)
            if r[1] != "done"]
    if not rows:
        print("nothing to run: every selected job is done")
        return 0
    print(f"{len(rows)} jobs to run:", file=sys.stderr)
    if args.dry_run:
        _print_plan(rows, table)
        return 0
    ledger = _read_log()
    ledger["launches"].append({"utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "argv": sys.argv[1:], "machine": machine()})
    write_json(LOG_FILE, ledger)
    estimates = [est or 0.0 for _, _, _, est in rows]
    engines = [job.engine for job, _, _, _ in rows]
    spent = {}                       # engine -> [estimated, measured] seconds of finished jobs

    def ratio(engine):               # measured / estimated, per engine (Keras' may differ)
        est_s, measured_s = spent.get(engine, (0.0, 0.0))
        return measured_s / est_s if est_s else 1.0

    def left_after(i):
        return sum(e * ratio(g) for e, g in zip(estimates[i + 1:], engines[i + 1:]))
    bar = tqdm(total=max(1, round(sum(estimates))), file=sys.stderr, dynamic_ncols=True,
               bar_format="{percentage:3.0f}%|{bar:20}| {desc}")
    failed = 0
    for i, (job, _, _, est) in enumerate(rows):
        state, detail = job.state()          # a job waiting on an earlier one may be ready now
        if state == "done":
            bar.update(round(est or 0))
            continue
        if state == "waiting":
            tqdm.write(f"skip {job.id}: {detail}", file=sys.stderr)
            bar.update(round(est or 0))
            continue
        est = estimates[i]           # the launch's estimates, so that the ratio applies to all
        r = ratio(job.engine)
        done_before = bar.n

        def status(elapsed):
            left = max(0.0, est * r - elapsed) + left_after(i)
            bar.n = done_before + min(round(elapsed / r), round(est))
            bar.set_description_str(
                f"job {i + 1}/{len(rows)} {job.id} ({state}) | {duration(elapsed)} of "
                f"~{duration(est * r) if est else '?'} | "
                f"~{duration(left) if sum(estimates) else '?'} left")
        code, entry = _run_child(job, status)
        entry.update(state_before=state, estimate_s=est, machine=machine())
        ledger["jobs"].append(entry)
        write_json(LOG_FILE, ledger)
        bar.n = done_before + round(est)
        bar.refresh()
        if code == 0:
            if est and job.engine:
                est_s, measured_s = spent.get(job.engine, (0.0, 0.0))
                spent[job.engine] = (est_s + est, measured_s + entry["wall_s"])
            _record_measured(table, job)
        elif code == 130:                # Ctrl+C: an nnlite job saved its checkpoint
            tqdm.write(f"interrupted {job.id}: {_after_interrupt(job)} "
                       f"(its output: {entry['log'].replace('$NNLITE_RUNS', RUNS)})",
                       file=sys.stderr)
            failed += 1
            break
        else:
            failed += 1
            tqdm.write(f"FAILED {job.id} (exit code {code}); its output: "
                       f"{entry['log'].replace('$NNLITE_RUNS', RUNS)}",
                       file=sys.stderr)
            if not args.keep_going:
                break
    bar.close()
    return 1 if failed else 0


def _record_measured(table, job):
    timing = job.timing() if job.engine else None
    if timing and timing.get("wall_s_per_epoch"):
        costs.record_measured(table, job.engine, job.recipe(), timing["wall_s_per_epoch"])


def cmd_report(args):
    from experiments import make_report, parity
    parity.main(["report"])
    make_report.main([])


ONLY_HELP = ("only the jobs whose id matches a PATTERN: shell-style (\"tuned/cnn-*\") or a "
             "plain substring (\"preprocessing\"); `list` shows the ids")

def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m experiments", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("list", help="every job of the study with its state and estimate")
    s.add_argument("--only", nargs="+", metavar="PATTERN", help=ONLY_HELP)
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("calibrate", help="time a few steps per model -> results/"
                                         "study_costs.json")
    s.add_argument("--engines", nargs="+", choices=["nnlite", "keras"],
                   default=["nnlite", "keras"])
    s.add_argument("--steps", type=int, default=5, help="timed steps per model (default 5)")
    s.set_defaults(func=cmd_calibrate)
    s = sub.add_parser("run", help="run every job not done yet, in order, one at a time")
    s.add_argument("--only", nargs="+", metavar="PATTERN", help=ONLY_HELP)
    s.add_argument("--dry-run", action="store_true", help="print what would run, run nothing")
    s.add_argument("--keep-going", action="store_true", help="go on after a failed job")
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("report", help="regenerate REPORT.md and parity.md from the results")
    s.set_defaults(func=cmd_report)
    s = sub.add_parser("job", help="run one job in this process (what `run` starts)")
    s.add_argument("id")
    s.set_defaults(func=cmd_job)
    args = p.parse_args(argv)
    # A shell starts a background command (`nohup ... &`) with SIGINT ignored; restore Python's
    # handler so that `kill -INT` pauses the driver and its job as Ctrl+C does.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.command == "job":           # a failing job's traceback goes to its log
        return args.func(args) or 0
    errors = CommandErrors(f"python -m experiments {args.command}")
    with errors:
        return args.func(args) or 0
    return errors.exit_code


if __name__ == "__main__":
    sys.exit(main())
