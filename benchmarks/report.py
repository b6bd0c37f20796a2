"""Build benchmarks/results/REPORT.md from the committed result files.

    python -m benchmarks.report            # reads results/bench-full.json, results/profile-*.json

REPORT.md = the hand-written analysis (benchmarks/analysis.md, which quotes these numbers)
+ tables generated here: targets, training/inference tables, time per epoch vs batch size and
vs VGG width (with FLOPs), and the per-layer profiles. Also draws results/samples_vs_batch.png.
"""
import json
import os

from .cli import RESULTS
from .tables import markdown, plot

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCH = 60000     # MNIST training images


def train_flops_per_sample(model, width=0.25):
    """Forward multiply-add flops of every Conv2D/Dense per sample, x3 for a training step
    (forward, weight gradient, input gradient)."""
    import nnlite.zoo
    from .profile import layer_flops
    kw = {"width": width} if model == "vgg16" else {}
    m = nnlite.zoo.build(model, **kw)
    return 3 * sum(layer_flops(layer, 1) for layer in m.layers)


def _label(m):
    return f"vgg16 ({m['width']})" if m["model"] == "vgg16" else m["model"]


def _med(m, engine, kind, batch):
    return m["engines"][engine][kind][str(batch)]["samples_per_s"]["median"]


def targets(result):
    rows = ["| target | measured (this run) | met? |", "|---|---|---|"]
    main = {m["model"]: m for m in result["models"]
            if m["model"] != "vgg16" or m["width"] == result["config"]["width"]}
    if "keras" not in result["engines"]:
        return "Keras was not run: no ratio targets.\n"
    for name, goal in (("ann", 2.0), ("cnn", 1.4), ("vgg16", 1.2)):
        r = main[name]["ratio_nnlite_over_keras"]["train"]["32"]
        rows.append(f"| {_label(main[name])} training, batch 32: nnlite/Keras ≥ {goal}× | "
                    f"{r:.2f}× ({_med(main[name], 'nnlite', 'train', 32):,.0f} vs "
                    f"{_med(main[name], 'keras', 'train', 32):,.0f} samples/s) | "
                    f"{'yes' if r >= goal else '**no**'} |")
    lat = main["cnn"]["engines"]["nnlite"]["latency_ms"]
    rows.append(f"| single-digit CNN inference ≤ 2 ms median | {lat['median']:.2f} ms "
                f"(p90 {lat['p90']:.2f}) | {'yes' if lat['median'] <= 2 else '**no**'} |")
    for name in ("ann", "cnn", "vgg16"):
        r = main[name]["ratio_nnlite_over_keras"]["predict"]["1000"]
        rows.append(f"| {_label(main[name])} batch-1000 inference ≥ 3× Keras `predict` | "
                    f"{r:.2f}× | {'yes' if r >= 3 else '**no**'} |")
    rss = main["cnn"]["engines"]["nnlite"]["setup"]["peak_rss_mb_after_train_batch"]["32"]
    rows.append(f"| peak RSS training the CNN at batch 32 ≤ 1.5 GB | {rss:,.0f} MB (whole "
                f"process, incl. the 60k-image float32 MNIST copy) | "
                f"{'yes' if rss <= 1536 else '**no**'} |")
    conv = []
    for name in ("cnn", "vgg16"):
        path = os.path.join(RESULTS, f"profile-{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                prof = json.load(f)
            p128 = next(p for p in prof["profiles"] if p["batch"] == 128)
            for row in p128["layers"]:
                if row["kind"] == "Conv2D":
                    conv.append((f"{name}/{row['layer']}", row["fwd_gflops"] /
                                 prof["sgemm_peak_gflops"]))
    if conv:
        ok = sum(f >= 0.5 for _, f in conv)
        worst = min(conv, key=lambda c: c[1])
        rows.append(f"| conv layers at batch 128 ≥ 50 % of sgemm peak (forward) | {ok} of "
                    f"{len(conv)} layers; lowest {worst[0]} {100 * worst[1]:.0f} % | "
                    f"{'yes' if ok == len(conv) else '**no** (partly)'} |")
    return "\n".join(rows) + "\n"


def epoch_table(result):
    engines = result["engines"]
    lines = ["| model | batch | " + " | ".join(f"{e} s/epoch" for e in engines) + " |",
             "|---|---:|" + "---:|" * len(engines)]
    for m in result["models"]:
        for b in m["engines"]["nnlite"]["train"]:
            cells = [f"{EPOCH / _med(m, e, 'train', b):,.1f}" for e in engines]
            lines.append(f"| {_label(m)} | {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def width_table(result):
    vgg = sorted((m for m in result["models"] if m["model"] == "vgg16"), key=lambda m: m["width"])
    if len(vgg) < 2:
        return ""
    engines = result["engines"]
    base = vgg[0]
    f0 = train_flops_per_sample("vgg16", base["width"])
    lines = ["| width | training GFLOP/sample | FLOPs vs width " + f"{base['width']} | " +
             " | ".join(f"{e} s/epoch (x vs {base['width']})" for e in engines) + " |",
             "|---:|---:|---:|" + "---:|" * len(engines)]
    for m in vgg:
        f = train_flops_per_sample("vgg16", m["width"])
        cells = []
        for e in engines:
            t = EPOCH / _med(m, e, "train", 32)
            t0 = EPOCH / _med(base, e, "train", 32)
            cells.append(f"{t:,.0f} ({t / t0:.1f}×)")
        lines.append(f"| {m['width']} | {f / 1e9:.3f} | {f / f0:.1f}× | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines) + "\n"


def profiles_section():
    from .profile import format_profile
    out = []
    for name in ("ann", "cnn", "vgg16"):
        path = os.path.join(RESULTS, f"profile-{name}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            prof = json.load(f)
        out.append(f"`python -m benchmarks --profile {name}` ({prof['started_utc']}, load average "
                   f"{prof['load_average'][0]:.1f}):\n")
        out += [format_profile(p, prof["sgemm_peak_gflops"]) + "\n" for p in prof["profiles"]]
    return "\n".join(out)


def equal_threads_section():
    """The same-run comparison with both engines limited to one thread."""
    path = os.path.join(RESULTS, "bench-1thread.json")
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        result = json.load(f)
    load = result["machine"]["load_average_start"][0]
    return (f"`python -m benchmarks --models ann cnn vgg16 --batches 32 128 --no-widths "
            f"--nnlite-threads 1 --keras-threads 1` ({result['started_utc']}, load average "
            f"{load:.1f} at start; "
            f"`{os.path.relpath(path, os.path.dirname(HERE))}`):\n\n"
            + markdown(result).split("### Inference")[0].strip() + "\n")


def _load(name):
    """A committed result file as a dict, or None when it was not made."""
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def ablations_section():
    from .ablations import table
    result = _load("ablations.json")
    return "" if result is None else (
        f"`python -m benchmarks.ablations` ({result['started_utc']}, {result['rounds']} "
        f"interleaved rounds, fresh process per measurement; samples/s, batch 32 for "
        f"training, `predict(batch_size=1000)`; in brackets relative to nnlite's defaults):"
        f"\n\n" + table(result) + "\n")


def kernels_section():
    from .kernels import table
    result = _load("kernels.json")
    return "" if result is None else (
        f"`python -m benchmarks.kernels` ({result['started_utc']}, load average "
        f"{result['load_average'][0]:.1f}; best and median of {result['repeats']} calls):"
        f"\n\n" + table(result) + "\n")


def build(result_path=None):
    result_path = result_path or os.path.join(RESULTS, "bench-full.json")
    with open(result_path) as f:
        result = json.load(f)
    png = os.path.join(RESULTS, "samples_vs_batch.png")
    plot(result, png)
    mach = result["machine"]
    with open(os.path.join(HERE, "analysis.md")) as f:
        analysis = f.read()
    peak = result["sgemm_peak_gflops"]
    parts = [analysis.rstrip(), "",
             "## Run", "",
             f"- `{os.path.relpath(result_path, os.path.dirname(HERE))}`, started "
             f"{result['started_utc']}, {result['seconds'] / 60:.1f} min; {result['repeats']} "
             f"interleaved repeats; engines {', '.join(result['engines'])}.",
             f"- Machine: {mach.get('cpu', '?')}, {mach['cpu_count']} cores, {mach['platform']}; "
             f"BLAS {mach['blas'][0]['internal_api']} {mach['blas'][0]['version']} "
             f"({mach['blas'][0]['architecture']}).",
             f"- Load average (1/5/15 min) at start {', '.join(f'{v:.1f}' for v in mach['load_average_start'])}"
             f", at end {', '.join(f'{v:.1f}' for v in mach['load_average_end'])}; "
             f"medians and same-run ratios are the numbers to read.",
             f"- float32 sgemm peak measured by the harness (best of 20 1024² products): "
             f"{peak.get('threads_1', peak.get('nnlite_threads')):.0f} GFLOP/s with 1 BLAS "
             f"thread, {peak['threads_2']:.0f} GFLOP/s with 2.",
             f"- Versions: " + ", ".join(f"{k} {v}" for e in result["engines"] for k, v in
                                         result["models"][0]["engines"][e]["setup"]["versions"]
                                         .items()), "",
             "## Targets", "", targets(result),
             "## Tables", "", markdown(result), "",
             "![training samples/s vs batch size](samples_vs_batch.png)", "",
             "## Time per epoch (60,000 images) vs batch size", "", epoch_table(result),
             "## Time per epoch vs VGG16 width (batch 32)", "", width_table(result),
             "## Both engines on one thread", "", equal_threads_section(),
             "## Ablations: each speed measure switched off", "", ablations_section(),
             "## Kernel variants tried (earlier kernels)", "", kernels_section(),
             "## Per-layer profiles", "", profiles_section()]
    with open(os.path.join(RESULTS, "REPORT.md"), "w") as f:
        f.write("\n".join(parts) + "\n")
    return os.path.join(RESULTS, "REPORT.md")


if __name__ == "__main__":
    print(build())
