"""Before/after figures for the round-2 measures, per layer, in ONE run.

    python -m benchmarks.before_after [--models cnn vgg16] [--batches 32 128] [--rounds 3]
                                      [--repeats 20] [--out benchmarks/results/before_after.json]

Variants (``benchmarks.profile.apply_switches``), all in this one process on the same weights:
    before   fusion off, direct first-layer loops off (im2col), kernel-transform cache off
    direct   only the direct loops on
    fused    only fusion on (conv -> BN -> ReLU -> pool chains, ``Sequential.fuse``)
    after    everything on (nnlite's defaults)
For each model and batch size, every round profiles every variant (``profile_model``: per unit
forward/backward medians over ``repeats`` training steps), the variants' order reversing from
round to round; the figures are medians over rounds. Inference: single-image ``predict``
latency (200 calls per round) and ``predict(batch_size=1000)`` samples/s on 2,000 images, per
variant (the cache matters only here: training recomputes the transforms).
"""
import argparse
import json
import os
import time

import numpy as np

import nnlite.zoo
from nnlite.files import jsonable

from .harness import machine_info
from .limits import copy_bandwidth, sgemm_peak
from .profile import apply_switches, profile_model

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "before_after.json")
VARIANTS = {"before": {"fuse": False, "direct": False, "cache": False},
            "direct": {"fuse": False, "direct": True, "cache": False},
            "fused": {"fuse": True, "direct": False, "cache": False},
            "after": {"fuse": True, "direct": True, "cache": True}}


def _merge(profiles):
    """Profiles of one variant over rounds -> one profile with per-row medians."""
    out = dict(profiles[0])
    for key in ("step_ms", "loss_ms", "optimizer_ms"):
        out[key] = float(np.median([p[key] for p in profiles]))
    out["samples_per_s"] = out["batch"] / out["step_ms"] * 1e3
    rows = []
    for i, row in enumerate(profiles[0]["layers"]):
        row = dict(row)
        for side in ("fwd", "bwd"):
            ms = float(np.median([p["layers"][i][f"{side}_ms"] for p in profiles]))
            for unit, amount in ((f"{side}_gflops", row[f"{side}_gflops"] and
                                  row[f"{side}_gflops"] * row[f"{side}_ms"]),
                                 (f"{side}_gbs", row[f"{side}_gbs"] and
                                  row[f"{side}_gbs"] * row[f"{side}_ms"])):
                row[unit] = amount / ms if amount else None
            row[f"{side}_ms"] = ms
        rows.append(row)
    out["layers"] = rows
    return out


def _inference(name, switches, calls=200, width=0.25):
    model = apply_switches(nnlite.zoo.build(name, seed=0, **(
        {"width": width} if name == "vgg16" else {})), **switches)
    x = np.random.default_rng(0).random((2000, 28, 28, 1), dtype=np.float32)
    model.predict(x[:1])
    model.predict(x[:1000], batch_size=1000)            # warm-up
    lat = []
    for i in range(calls):
        t = time.perf_counter()
        model.predict(x[i:i + 1])
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    model.predict(x, batch_size=1000)
    return {"latency_ms": float(np.median(lat) * 1e3),
            "predict_1000_samples_per_s": len(x) / (time.perf_counter() - t)}


def measure(models, batches, rounds, repeats, log=print):
    t0 = time.time()
    result = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
              "load_average": os.getloadavg(), "machine": machine_info(), "rounds": rounds,
              "repeats": repeats,
              "variants": VARIANTS, "sgemm_peak_gflops": sgemm_peak(),
              "copy_bandwidth_gbs": {f"threads_{t}": copy_bandwidth(threads=t) for t in (1, 2)},
              "profiles": {}, "inference": {}}
    names = list(VARIANTS)
    for name in models:
        prof = {(b, v): [] for b in batches for v in names}
        infer = {v: [] for v in names}
        for r in range(rounds):
            order = names if r % 2 == 0 else names[::-1]
            for b in batches:
                for v in order:
                    prof[(b, v)].append(profile_model(name, b, repeats=repeats, **VARIANTS[v]))
            for v in order:
                infer[v].append(_inference(name, VARIANTS[v]))
            log(f"{name}: round {r + 1}/{rounds} done")
        result["profiles"][name] = {str(b): {v: _merge(prof[(b, v)]) for v in names}
                                    for b in batches}
        result["inference"][name] = {v: {k: float(np.median([i[k] for i in infer[v]]))
                                         for k in infer[v][0]} for v in names}
    result["seconds"] = time.time() - t0
    return jsonable(result)


def _grouped(by_variant, names):
    """[(group, [fwd+bwd ms per variant])]: the units of the "fused" variant as groups, every
    variant's rows (single layers or whole chains) summed into the group they belong to."""
    groups = [r["layer"] for r in by_variant["fused"]["layers"]]
    home = {layer: g for g in groups for layer in g.split("+")}
    out = []
    for g in groups:
        cells = []
        for v in names:
            cells.append(sum(r["fwd_ms"] + r["bwd_ms"] for r in by_variant[v]["layers"]
                             if home[r["layer"].split("+")[0]] == g))
        out.append((g, cells))
    return out


def table(result):
    """Markdown: step time per variant, then per-unit forward+backward ms, per model/batch."""
    names = list(result["variants"])
    lines = ["| model | batch | " + " | ".join(f"{v} step ms" for v in names) +
             " | after / before |", "|---|---:|" + "---:|" * (len(names) + 1)]
    for model, by_batch in result["profiles"].items():
        for b, by_v in by_batch.items():
            steps = [by_v[v]["step_ms"] for v in names]
            lines.append(f"| {model} | {b} | " + " | ".join(f"{s:.2f}" for s in steps) +
                         f" | {steps[-1] / steps[0]:.2f}× |")
    lines += ["", "| model | " + " | ".join(f"{v}: latency ms / predict(1000) samples/s"
                                            for v in names) + " |",
              "|---|" + "---:|" * len(names)]
    for model, by_v in result["inference"].items():
        lines.append(f"| {model} | " + " | ".join(
            f"{by_v[v]['latency_ms']:.3f} / {by_v[v]['predict_1000_samples_per_s']:,.0f}"
            for v in names) + " |")
    for model, by_batch in result["profiles"].items():
        for b, by_v in by_batch.items():
            lines += ["", f"**{model}, batch {b}**: forward + backward ms per layer, the layers "
                      "a fused chain runs summed (the groups are the chains of \"fused\")", "",
                      "| layers | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
            for group, cells in _grouped(by_v, names):
                lines.append(f"| {group} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
            bw = result["copy_bandwidth_gbs"]["threads_1"]
            memory = [f"{r['layer']} {r['fwd_gbs']:.1f} / {r['bwd_gbs']:.1f} GB/s "
                      f"({100 * r['fwd_gbs'] / bw:.0f} / {100 * r['bwd_gbs'] / bw:.0f} %)"
                      for r in by_v["before"]["layers"] if r.get("fwd_gbs") and r.get("bwd_gbs")]
            if memory:
                lines += ["", f"Memory-bound layers, before (forward / backward, % of the "
                          f"one-thread copy bandwidth {bw:.1f} GB/s): " + "; ".join(memory) + "."]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["cnn", "vgg16"], choices=["cnn", "vgg16"])
    p.add_argument("--batches", nargs="+", type=int, default=[32, 128])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", default=OUT)
    args = p.parse_args(argv)
    result = measure(args.models, args.batches, args.rounds, args.repeats)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    print(table(result))


if __name__ == "__main__":
    main()
