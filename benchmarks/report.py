"""Build benchmarks/results/REPORT.md from the committed result files.

    python -m benchmarks.report            # reads results/bench-full.json, results/profile-*.json

REPORT.md = the hand-written analysis (benchmarks/analysis.md, which quotes these numbers)
+ tables generated here: targets, training/inference tables, time per epoch vs batch size and
vs VGG width (with FLOPs), and the per-layer profiles. Also draws results/samples_vs_batch.png.

This module writes the page and its "Run" header; the targets table is made in
``benchmarks.report_targets``, the other sections in ``benchmarks.report_sections``.
"""
import json
import os

from .cli import RESULTS
from .report_sections import (
    HERE, ablations_section, before_after_section, epoch_table, equal_threads_section,
    kernels_section, profiles_section, width_table)
from .report_targets import targets
from .tables import markdown, plot


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
