"""Markdown tables and the samples/s-vs-batch-size plot, from a result dict (the JSON file)."""


def _fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def _cell(stats):
    return f"{_fmt(stats['median'])} ({_fmt(stats['min'])}–{_fmt(stats['max'])})"


PEER_NAMES = {"keras": "Keras", "torch": "PyTorch"}


def model_label(m):
    return f"vgg16 ({m['width']})" if m["model"] == "vgg16" else m["model"]


def _peers(result):
    return [e for e in result["engines"] if e != "nnlite"]


def _ratio_cells(m, kind, batch, peers):
    return [f"**{m[f'ratio_nnlite_over_{p}'][kind][batch]:.2f}×**" for p in peers]


def markdown(result):
    """The tables of one run: training, inference, latency/RSS/warm-up; a ratio column per
    peer engine (Keras, PyTorch) that ran."""
    engines, peers = result["engines"], _peers(result)
    ratio_heads = "".join(f" nnlite/{PEER_NAMES.get(p, p)} |" for p in peers)
    align = "|---|---:|" + "---:|" * (len(engines) + len(peers))
    lines = ["### Training samples/s (median over interleaved repeats, min–max; steady state: "
             "first batch end to last batch end of each `fit`)", "",
             "| model | batch | " + " | ".join(engines) + " |" + ratio_heads, align]
    for m in result["models"]:
        for b in m["engines"]["nnlite"]["train"]:
            row = [_cell(m["engines"][e]["train"][b]["samples_per_s"]) for e in engines]
            lines.append(f"| {model_label(m)} | {b} | " + " | ".join(
                row + _ratio_cells(m, "train", b, peers)) + " |")
    lines += ["", "### Inference samples/s (`predict`, median, min–max)", "",
              "| model | batch | " + " | ".join(engines) + " |" + ratio_heads, align]
    for m in result["models"]:
        for b in m["engines"]["nnlite"]["predict"]:
            row = [_cell(m["engines"][e]["predict"][b]["samples_per_s"]) for e in engines]
            lines.append(f"| {model_label(m)} | {b} | " + " | ".join(
                row + _ratio_cells(m, "predict", b, peers)) + " |")
    lines += ["", "### Single-image latency, peak RSS, warm-up", "",
              "| model | engine | latency median ms (p90) | peak RSS MB (after batch-32 warm-up / "
              "whole run) | build s | first `fit` call s (batch 32) |",
              "|---|---|---:|---:|---:|---:|"]
    for m in result["models"]:
        for e in engines:
            r = m["engines"][e]
            s = r["setup"]
            rss32 = s["peak_rss_mb_after_train_batch"].get("32")
            first = s["warmup_train_s"].get("32", [None])[0]
            first = None if first is None else first["fit_s"]
            lines.append(f"| {model_label(m)} | {e} | {r['latency_ms']['median']:.2f} "
                         f"({r['latency_ms']['p90']:.2f}) | "
                         f"{'' if rss32 is None else f'{rss32:,.0f} / '}{r['peak_rss_mb']:,.0f} | "
                         f"{s['build_s']:.2f} | {'' if first is None else f'{first:.2f}'} |")
    skipped = result.get("skipped") or {}
    if skipped:
        lines += [""] + [f"Not run: {PEER_NAMES.get(p, p)} ({why})." for p, why in skipped.items()]
    return "\n".join(lines)


def machine_label(result):
    """The run's machine from its ``machine`` record: CPU, cores and BLAS kernel, e.g.
    "Intel(R) Xeon(R) Processor, 2 cores, OpenBLAS SkylakeX kernels"."""
    mach = result.get("machine") or {}
    parts = [mach.get("cpu") or "CPU not recorded"]
    if mach.get("cpu_count"):
        parts.append(f"{mach['cpu_count']} cores")
    libs = mach.get("blas") or [{}]
    # the first BLAS among the thread pools threadpoolctl lists (it may list OpenMP first)
    blas = next((lib for lib in libs if lib.get("internal_api") in ("openblas", "mkl", "blis")),
                libs[0])
    if blas.get("internal_api"):
        name = {"openblas": "OpenBLAS", "mkl": "MKL"}.get(blas["internal_api"],
                                                         blas["internal_api"])
        parts.append(f"{name} {blas.get('architecture') or ''} kernels".replace("  ", " "))
    return ", ".join(parts)


def plot(result, path):
    """samples/s vs training batch size, one panel per model, both engines (log-log)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = [m for m in result["models"] if len(m["engines"]["nnlite"]["train"]) > 1]
    fig, axes = plt.subplots(1, len(models), figsize=(4.6 * len(models), 4.0), squeeze=False)
    colors = {"nnlite": "tab:blue", "keras": "tab:orange", "torch": "tab:red"}
    for ax, m in zip(axes[0], models):
        for e in result["engines"]:
            tr = m["engines"][e]["train"]
            bs = sorted(int(b) for b in tr)
            med = [tr[str(b)]["samples_per_s"]["median"] for b in bs]
            lo = [tr[str(b)]["samples_per_s"]["min"] for b in bs]
            hi = [tr[str(b)]["samples_per_s"]["max"] for b in bs]
            ax.plot(bs, med, "o-", color=colors.get(e), label=e)
            ax.fill_between(bs, lo, hi, color=colors.get(e), alpha=0.2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(bs)
        ax.set_xticklabels([str(b) for b in bs])
        ax.set_title(model_label(m))
        ax.set_xlabel("batch size")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("training samples/s (median; band = min–max)")
    axes[0][0].legend()
    fig.suptitle(f"Training throughput vs batch size, same run, interleaved repeats "
                 f"({machine_label(result)})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
