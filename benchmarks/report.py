"""Build benchmarks/results/REPORT.md from the committed result files.

    python -m benchmarks.report            # reads results/bench-full.json, results/profile-*.json

REPORT.md = the hand-written analysis (benchmarks/analysis.md, which quotes these numbers)
+ tables generated here: targets, training/inference tables, time per epoch vs batch size and
vs VGG width (with FLOPs), and the per-layer profiles. Also draws results/samples_vs_batch.png.
"""
import json
import os

from .cli import RESULTS
from .tables import PEER_NAMES, machine_label, markdown, plot

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


def step_flops(prof, width=0.25):
    """(direct-equivalent, computed) flops of one profiled training step. Direct-equivalent:
    the profile's ``train_flops`` (3x the forward multiply-adds of every Conv2D/Dense, the
    convention of every GFLOP/s figure here). Computed: the multiply-adds of the GEMMs and loops
    that really run: Winograd layers (as the profile's rows name them) do 16 per 2x2 tile and
    channel pair instead of 9 per output, and the lowest layer with weights has no input
    gradient; Winograd's transforms (additions) are not counted."""
    import nnlite.zoo
    from nnlite.layers import Conv2D
    from nnlite.ops.winograd import tiles
    from .profile import layer_flops
    kinds = [k for row in prof["layers"]
             for k in row["kind"].removeprefix("fused: ").split(" + ")]
    model = nnlite.zoo.build(prof["model"], **({"width": width} if prof["model"] == "vgg16"
                                                 else {}))
    if len(kinds) != len(model.layers):
        return prof.get("train_flops"), None
    batch = prof["batch"]
    lowest = next(i for i, layer in enumerate(model.layers) if layer.params)
    direct = computed = 0.0
    for i, (layer, kind) in enumerate(zip(model.layers, kinds)):
        f = layer_flops(layer, batch)
        if isinstance(layer, Conv2D) and kind.endswith("winograd"):
            _, _, oh, ow, _, _ = layer._taps(layer.input_shape)
            th, tw = tiles(oh, ow)
            c, filters = layer.params["kernel"].shape[2:]
            f_run = 2.0 * batch * 16 * th * tw * c * filters
        else:
            f_run = f
        direct += 3 * f
        computed += (3 if i > lowest else 2) * f_run
    return direct, computed


def _machine(result):
    """Where a result file was measured, from its own machine record."""
    mach = result.get("machine") or {}
    if mach.get("cpu"):
        return f"measured on {machine_label(result)}"
    return "measured on a machine the file does not record"


def _label(m):
    return f"vgg16 ({m['width']})" if m["model"] == "vgg16" else m["model"]


def _med(m, engine, kind, batch):
    return m["engines"][engine][kind][str(batch)]["samples_per_s"]["median"]


# Round-2 targets (training at batch 32); peak RSS: the CNN at batch 32 in the round-1 report
TRAIN_TARGETS = {"keras": 1.5, "torch": 1.3}
STEP_PEAK_FRACTION = 0.6
MEMORY_FRACTION = 0.5
LATENCY_MS = 1.0
ROUND1_RSS_MB = 508.3          # MB, bench-full.json of round 1


def _yes(ok):
    return "yes" if ok else "**no**"


def targets(result):
    rows = ["| target | measured (the harness run unless it says otherwise) | met? |",
            "|---|---|---|"]
    main = {m["model"]: m for m in result["models"]
            if m["model"] != "vgg16" or m["width"] == result["config"]["width"]}
    for peer, goal in TRAIN_TARGETS.items():
        if peer not in result["engines"]:
            rows.append(f"| training ≥ {goal}× {PEER_NAMES[peer]} | not run: "
                        f"{(result.get('skipped') or {}).get(peer, '')} | – |")
            continue
        for name in ("ann", "cnn", "vgg16"):
            r = main[name][f"ratio_nnlite_over_{peer}"]["train"]["32"]
            rows.append(f"| {_label(main[name])} training, batch 32: nnlite/{PEER_NAMES[peer]} "
                        f"≥ {goal}× | {r:.2f}× ({_med(main[name], 'nnlite', 'train', 32):,.0f} "
                        f"vs {_med(main[name], peer, 'train', 32):,.0f} samples/s) | "
                        f"{_yes(r >= goal)} |")
    prof = _load("profile-cnn.json")
    run_peak = result["sgemm_peak_gflops"].get("threads_2")
    if prof:
        p32 = next(p for p in prof["profiles"] if p["batch"] == 32)
        peak = prof["sgemm_peak_gflops"]
        direct, computed = step_flops(p32)
        if direct:
            g_d, g_c = direct / p32["step_ms"] / 1e6, computed and computed / p32["step_ms"] / 1e6
            cell = (f"profile: {p32['step_ms']:.1f} ms per step = {g_d:.0f} GFLOP/s "
                    f"direct-equivalent ({direct / 32 / 1e6:.1f} MFLOP/sample) = "
                    f"{g_d / peak:.0%} of its {peak:.0f} GFLOP/s")
            if g_c:
                cell += (f"; multiply-adds actually computed {g_c:.0f} GFLOP/s "
                         f"({computed / 32 / 1e6:.1f} MFLOP/sample: Winograd layers, no input "
                         f"gradient for the first layer) = {g_c / peak:.0%}")
            best = g_d / peak
            rate = _med(main["cnn"], "nnlite", "train", 32)
            if run_peak:
                h_d, h_c = rate * direct / 32 / 1e9, computed and rate * computed / 32 / 1e9
                cell += (f". Harness run: {rate:,.0f} samples/s = {h_d:.0f} GFLOP/s "
                         f"direct-equivalent = {h_d / run_peak:.0%} of its {run_peak:.0f} GFLOP/s"
                         + (f" (computed {h_c:.0f} = {h_c / run_peak:.0%})" if h_c else ""))
                best = max(best, h_d / run_peak)
            rows.append(f"| CNN training step (batch 32) ≥ {STEP_PEAK_FRACTION:.0%} of the "
                        f"two-core sgemm peak | {cell} | {_yes(best >= STEP_PEAK_FRACTION)} |")
        bandwidth = prof.get("copy_bandwidth_gbs", {}).get("threads_1")
        kernels = [(r["layer"], side, r[f"{side}_gbs"]) for r in p32["layers"]
                   for side in ("fwd", "bwd") if r.get(f"{side}_gbs")]
        if bandwidth and kernels:
            low = min(kernels, key=lambda k: k[2])
            ok = sum(k[2] >= MEMORY_FRACTION * bandwidth for k in kernels)
            rows.append(f"| CNN BN/ReLU/pool passes ≥ {MEMORY_FRACTION:.0%} of the copy "
                        f"bandwidth ({bandwidth:.1f} GB/s, one thread) | {ok} of {len(kernels)};"
                        f" lowest {low[0]} {low[1]} {low[2]:.1f} GB/s | "
                        f"{_yes(ok == len(kernels))} |")
        else:
            rows.append(_separate_passes_row())
    lat = main["cnn"]["engines"]["nnlite"]["latency_ms"]
    rows.append(f"| single-digit CNN inference ≤ {LATENCY_MS:g} ms median | {lat['median']:.2f} "
                f"ms (p90 {lat['p90']:.2f}) | {_yes(lat['median'] <= LATENCY_MS)} |")
    setup = main["cnn"]["engines"]["nnlite"]["setup"]
    rss = setup["peak_rss_mb_after_train_batch"]["32"]
    if setup.get("peak_rss_source") == "VmHWM":
        diff = round(rss, 1) - ROUND1_RSS_MB
        rows.append(f"| peak RSS training the CNN at batch 32 ≤ round 1's {ROUND1_RSS_MB} MB | "
                    f"{rss:,.1f} MB, VmHWM of the worker ({diff:+.1f} MB; whole worker process, "
                    f"incl. the 60k-image float32 MNIST copy and the data load's transient; see "
                    f"\"Peak RSS\" above) | {_yes(diff <= 0)} |")
    else:
        rows.append(f"| peak RSS training the CNN at batch 32 ≤ round 1's {ROUND1_RSS_MB} MB | "
                    f"{rss:,.0f} MB recorded, but read from ru_maxrss, which a worker inherits "
                    f"from the harness process that starts it (the harness's own peak: its "
                    f"256 MB copy-bandwidth arrays); nnlite's own peak is not known from this "
                    f"run (see \"Peak RSS\" above) | **no** (not measured) |")
    return "\n".join(rows) + "\n"


def _separate_passes_row():
    """The BN/ReLU/pool target when nnlite's defaults fuse those layers into the conv chains:
    the passes as separate kernels, from the "before" variant (fusion off) of before_after."""
    head = f"| CNN BN/ReLU/pool passes ≥ {MEMORY_FRACTION:.0%} of the copy bandwidth | "
    ba = _load("before_after.json")
    rows = ba and ba["profiles"].get("cnn", {}).get("32", {}).get("before", {}).get("layers")
    if not rows:
        return head + "fused into the conv chains: not timed apart | – |"
    bw = ba["copy_bandwidth_gbs"]["threads_1"]
    kinds = {"BatchNormalization": "BN", "ReLU": "ReLU", "MaxPool2D": "pool"}
    passes = [(kinds[r["kind"]], r["layer"], side, r[f"{side}_gbs"]) for r in rows
              if r["kind"] in kinds for side in ("fwd", "bwd") if r.get(f"{side}_gbs")]
    ok = sum(p[3] >= MEMORY_FRACTION * bw for p in passes)
    ranges = []
    for short in kinds.values():
        pct = [100 * p[3] / bw for p in passes if p[0] == short]
        if pct:
            ranges.append(f"{short} {min(pct):.0f}–{max(pct):.0f} %")
    low = min(passes, key=lambda p: p[3])
    return (head + "nnlite's default fuses them into the conv chains, where they are not timed "
            f"apart. As separate kernels (`before_after.json`, fusion off, batch 32): {ok} of "
            f"{len(passes)} passes (forward, backward) ≥ {MEMORY_FRACTION:.0%} of the one-thread "
            f"copy bandwidth {bw:.1f} GB/s; {', '.join(ranges)}; lowest {low[1]} {low[2]} "
            f"{low[3]:.1f} GB/s | **no** |")


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
    from .profile import format_result
    out = []
    for name in ("ann", "cnn", "vgg16"):
        prof = _load(f"profile-{name}.json")
        if prof is None:
            continue
        out.append(f"`python -m benchmarks --profile {name}` ({prof['started_utc']}, load average "
                   f"{prof['load_average'][0]:.1f}; {_machine(prof)}):\n")
        out.append(format_result(prof) + "\n")
    return "\n".join(out)


def before_after_section():
    from .before_after import table
    result = _load("before_after.json")
    return "" if result is None else (
        f"`python -m benchmarks.before_after` ({result['started_utc']}, {result['rounds']} "
        f"interleaved rounds in one process, load average {result['load_average'][0]:.1f}; "
        f"{_machine(result)}):"
        f"\n\n" + table(result) + "\n")


def equal_threads_section():
    """The same-run comparison with both engines limited to one thread."""
    path = os.path.join(RESULTS, "bench-1thread.json")
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        result = json.load(f)
    load = result["machine"]["load_average_start"][0]
    peak = result.get("sgemm_peak_gflops") or {}
    peak_note = (f"; sgemm peak measured in it {peak['threads_1']:.0f} GFLOP/s on one thread, "
                 f"{peak['threads_2']:.0f} on two" if "threads_1" in peak else "")
    return (f"`python -m benchmarks --models ann cnn vgg16 --batches 32 128 --no-widths "
            f"--nnlite-threads 1 --keras-threads 1` ({result['started_utc']}, load average "
            f"{load:.1f} at start; "
            f"`{os.path.relpath(path, os.path.dirname(HERE))}`; "
            f"**{_machine(result)}**, engines "
            f"{', '.join(result['engines'])}{peak_note}; a separate run: read its own "
            f"ratios):\n\n"
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
        f"interleaved rounds, **{_machine(result)}**; a dash: not measured (the variant "
        f"concerns inference only); fresh process per measurement; samples/s of whole `fit` "
        f"calls of 40 steps at batch 32 (the CNN's include the BatchNormalization re-estimation "
        f"`fit` runs after short runs, see \"What made it faster\"), "
        f"`predict(batch_size=1000)`; in brackets relative to nnlite's defaults):"
        f"\n\n" + table(result) + "\n")


def kernels_section():
    from .kernels import table
    result = _load("kernels.json")
    return "" if result is None else (
        f"`python -m benchmarks.kernels` ({result['started_utc']}, load average "
        f"{result['load_average'][0]:.1f}, **{_machine(result)}**; best and "
        f"median of {result['repeats']} calls):"
        f"\n\n" + table(result) + "\n")


def _bandwidth_line(result):
    bw = result.get("copy_bandwidth_gbs")
    if not bw:
        return "- Copy bandwidth: not measured in this run."
    return (f"- Copy bandwidth measured by the harness (best `np.copyto` of 256 MB, read + "
            f"written bytes): {bw['threads_1']:.1f} GB/s on 1 thread, {bw['threads_2']:.1f} GB/s "
            f"on 2.")


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
             _bandwidth_line(result),
             f"- Versions: " + ", ".join(f"{k} {v}" for e in result["engines"] for k, v in
                                         result["models"][0]["engines"][e]["setup"]["versions"]
                                         .items()), "",
             "## Targets", "", targets(result),
             "## Tables", "", markdown(result), "",
             "![training samples/s vs batch size](samples_vs_batch.png)", "",
             "## Time per epoch (60,000 images) vs batch size", "", epoch_table(result),
             "## Time per epoch vs VGG16 width (batch 32)", "", width_table(result),
             "## Every engine on one thread", "", equal_threads_section(),
             "## Before/after: the round-2 measures, per layer", "", before_after_section(),
             "## Ablations: each speed measure switched off", "", ablations_section(),
             "## Kernel variants tried", "", kernels_section(),
             "## Per-layer profiles", "", profiles_section()]
    with open(os.path.join(RESULTS, "REPORT.md"), "w") as f:
        f.write("\n".join(parts) + "\n")
    return os.path.join(RESULTS, "REPORT.md")


if __name__ == "__main__":
    print(build())
