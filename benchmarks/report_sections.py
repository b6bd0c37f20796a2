"""The committed result files read back (``load_result``, ``median_rate``, ``_machine``) and
the sections of REPORT.md other than the targets: time per epoch vs batch size and vs VGG
width (with FLOPs), the one-thread run, before/after, ablations, kernel variants and the
per-layer profiles. ``benchmarks.report`` assembles the page.
"""
import json
import os

from .cli import RESULTS
from .tables import machine_label, markdown, model_label

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


def _machine(result):
    """Where a result file was measured, from its own machine record."""
    mach = result.get("machine") or {}
    if mach.get("cpu"):
        return f"measured on {machine_label(result)}"
    return "measured on a machine the file does not record"


def median_rate(m, engine, kind, batch):
    return m["engines"][engine][kind][str(batch)]["samples_per_s"]["median"]


def epoch_table(result):
    engines = result["engines"]
    lines = ["| model | batch | " + " | ".join(f"{e} s/epoch" for e in engines) + " |",
             "|---|---:|" + "---:|" * len(engines)]
    for m in result["models"]:
        for b in m["engines"]["nnlite"]["train"]:
            cells = [f"{EPOCH / median_rate(m, e, 'train', b):,.1f}" for e in engines]
            lines.append(f"| {model_label(m)} | {b} | " + " | ".join(cells) + " |")
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
            t = EPOCH / median_rate(m, e, "train", 32)
            t0 = EPOCH / median_rate(base, e, "train", 32)
            cells.append(f"{t:,.0f} ({t / t0:.1f}×)")
        lines.append(f"| {m['width']} | {f / 1e9:.3f} | {f / f0:.1f}× | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines) + "\n"


def profiles_section():
    from .profile import format_result
    out = []
    for name in ("ann", "cnn", "vgg16"):
        prof = load_result(f"profile-{name}.json")
        if prof is None:
            continue
        out.append(f"`python -m benchmarks --profile {name}` ({prof['started_utc']}, load average "
                   f"{prof['load_average'][0]:.1f}; {_machine(prof)}):\n")
        out.append(format_result(prof) + "\n")
    return "\n".join(out)


def _result_section(name, table, intro):
    """``intro(result)`` and ``table(result)`` of the committed result file ``name``, or ""
    when it was not made."""
    result = load_result(name)
    return "" if result is None else f"{intro(result)}:\n\n" + table(result) + "\n"


def before_after_section():
    from .before_after import table
    return _result_section("before_after.json", table, lambda r: (
        f"`python -m benchmarks.before_after` ({r['started_utc']}, {r['rounds']} interleaved "
        f"rounds in one process, load average {r['load_average'][0]:.1f}; {_machine(r)})"))


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


def load_result(name):
    """A committed result file as a dict, or None when it was not made."""
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def ablations_section():
    from .ablations import table
    return _result_section("ablations.json", table, lambda r: (
        f"`python -m benchmarks.ablations` ({r['started_utc']}, {r['rounds']} "
        f"interleaved rounds, **{_machine(r)}**; a dash: not measured (the variant "
        f"concerns inference only); fresh process per measurement; samples/s of whole `fit` "
        f"calls of 40 steps at batch 32 (the CNN's include the BatchNormalization re-estimation "
        f"`fit` runs after short runs, see \"What made it faster\"), "
        f"`predict(batch_size=1000)`; in brackets relative to nnlite's defaults)"))


def kernels_section():
    from .kernels import table
    return _result_section("kernels.json", table, lambda r: (
        f"`python -m benchmarks.kernels` ({r['started_utc']}, load average "
        f"{r['load_average'][0]:.1f}, **{_machine(r)}**; best and "
        f"median of {r['repeats']} calls)"))
