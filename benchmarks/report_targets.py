"""The "Targets" table of REPORT.md: each round-2 target with its measured value and whether
it was met, and the FLOP accounting of a profiled training step it is read against.
"""
from .report_sections import load_result, median_rate
from .tables import PEER_NAMES, model_label


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
            rows.append(f"| {model_label(main[name])} training, batch 32: nnlite/{PEER_NAMES[peer]} "
                        f"≥ {goal}× | {r:.2f}× ({median_rate(main[name], 'nnlite', 'train', 32):,.0f} "
                        f"vs {median_rate(main[name], peer, 'train', 32):,.0f} samples/s) | "
                        f"{_yes(r >= goal)} |")
    prof = load_result("profile-cnn.json")
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
            rate = median_rate(main["cnn"], "nnlite", "train", 32)
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
    ba = load_result("before_after.json")
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
