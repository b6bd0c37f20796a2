"""The other sections of parity.md: the numerical parity table (section 1), where the float32
differences come from (section 5), the fixed notes on reading the numbers (section 6) and what
was run and what was not (section 7). ``experiments.parity_report`` assembles the page.
"""
from experiments.parity_accuracy import ENGINES, PROTOCOLS


def numerical_table(numerical):
    lines = []
    for entry in numerical:
        lines += [f"**{entry['title']}** (batch {entry['batch_size']}, Adam lr "
                  f"{entry['lr']:g}, {entry['steps']} steps)", "",
                  "| check | float32 | float64 (both engines) | tolerance |",
                  "|---|---|---|---|"]
        f32, f64 = entry["results"]["float32"], entry["results"]["float64"]
        for a, b in zip(f32, f64):
            def cell(r):
                mark = "" if r["within"] is None else (" ✓" if r["within"] else " ✗")
                return f"{r['value']:.2e}{mark}"
            tol = "–" if a["tolerance"] is None else f"{a['tolerance']:.0e}"
            check = a["check"].replace("|", "\\|")      # a bare | would split the cell
            lines.append(f"| {check} | {cell(a)} | {cell(b)} | {tol} |")
        lines.append("")
    return lines


def gradient_error_section(rows):
    if not rows:
        return []
    out = ["## 5. Where the float32 differences come from", "",
           "CNN, one batch of 8: each engine's float32 gradient against the float64 gradient "
           "(nnlite's float64 gradient, equal to Keras' float64 gradient within the float64 "
           "column of section 1).",
           "", "| weight | max abs gradient (float64) | nnlite float32 error | Keras float32 "
           "error |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['weight']} | {r['max_abs_grad_float64']:.2e} | "
                   f"{r['nnlite_float32_error']:.2e} | {r['keras_float32_error']:.2e} |")
    worse = sum(r["nnlite_float32_error"] > r["keras_float32_error"] for r in rows)
    out += ["", f"nnlite's float32 error is larger than Keras' in {worse} of {len(rows)} arrays. "
            "The conv biases' true gradient is 0 (≈1e-14 in float64): the BatchNormalization "
            "after each conv subtracts the batch mean, so a constant shift of the conv output "
            "changes nothing. In float32 both engines return rounding noise there.", ""]
    return out


NOTES = """## 6. Reading the numbers

**float64 (both engines) is the proof of identical algorithms.** Every check holds in float64
for all three models, most by many orders of magnitude (section 1). Keras runs in
float64 with `keras.backend.set_floatx("float64")` and float64 layers; nnlite with
`dtype="float64"` layers. The remaining float64 differences in the CNN (~1e-9 after Adam)
come from its conv biases, whose zero gradient is rounding noise of ~1e-14 that Adam divides
by epsilon.

**An Adam step-size difference was found and fixed in nnlite.** Keras 3's Adam turns `beta_1` and
`beta_2` into float32 tensors before casting them to the variable's dtype, and computes the
bias corrections `1 - beta**t` in that dtype. nnlite computed them from the exact double
betas, so its step size `alpha` differed from Keras' at step 1 by the factor
`sqrt(1 - f32(0.999)) / sqrt(0.001) * 0.1 / (1 - f32(0.9)) = 0.9999933` (6.7e-6). In float64
parity this showed as a weight difference of 6.7e-6 x lr after one step, which the training
dynamics then amplified step after step (far past 1e-4 in 50 CNN steps). After the fix
(`nnlite/optimizers.py`, `Adam.update`) the float64 rows of section 1 hold; to see the old
behaviour, compute alpha from the double betas and run `python -m baselines compare cnn --dtype float64`.

**A second, float32-only difference was fixed in the fused Adam kernel.** Keras computes
`1 - beta_1` and `1 - beta_2` in double (Python floats) and rounds the results to float32
(0.001 for beta_2); the kernel computed them in float32 from the rounded betas
(`1 - f32(0.999) = 0.0009999871`, 1.3e-5 off), a systematic difference in every update of `v`.
It now receives the betas as Python floats and rounds `1 - beta` once
(`nnlite/ops/update.py`, `nnlite/optimizers.py`). The ANN float32 rows of section 1 are
measured after both fixes.

**Keras' L2 factor also goes through float32** (0.01 becomes 0.0099999998), a 2e-8 relative
difference in the regularisation loss (the "L2 loss" row). nnlite keeps the exact factor; the
difference is below the 1e-6 tolerance and left as is.

**float32 differences are rounding, amplified where the maths is ill-conditioned.**
- Forward passes agree to about 1e-6 (tolerance 1e-4) and gradients to float32 rounding.
- Adam divides each gradient by its own root-mean-square, so for a weight whose gradient is
  near 0 a rounding difference of 1e-8 becomes a step difference of up to ~lr. The CNN's conv
  biases (true gradient 0) therefore get float32 steps of about ±lr in directions set by each
  engine's rounding noise (CNN float32 "Adam 1 step" row). These biases do not change the
  training-mode output (BN removes them), but they drift the BN moving means.
- A ReLU whose input is within rounding of 0 (met in VGG16 while writing the tests) or a
  MaxPool window with a near-tie switches between engines and sends that unit's gradient
  elsewhere; over 50 steps such switches and the Adam amplification compound
  (float32 50-step rows). Both effects vanish in float64.
- The float32 rows are therefore printed, not hidden: they are what a user sees when training
  in float32 with either engine, and they show how fast two float32 trainings from the same
  weights drift apart. Which engine is closer to the exact (float64) gradient is in section 5.

**Accuracy parity.** Both engines train the same architectures with their own random
initialisation and shuffling, so per-seed results differ; the question is whether the mean
difference is within seed-to-seed variation. Welch's t-test (scipy.stats.ttest_ind,
equal_var=False) on the per-seed test accuracies answers it where each engine has >= 2 seeds.
""".splitlines() + [""]


def scope_section(runs, agreement):
    """What was run, from the JSON, and what was not."""
    out = ["## 7. What was run and what was not", ""]
    models = sorted({r["model"] for r in runs} | {"ann", "cnn", "vgg16"})
    for protocol in PROTOCOLS:
        for model in models:
            seeds = {e: sorted(r["seed"] for r in runs if r["model"] == model
                               and r["engine"] == e
                               and r.get("protocol_name", "seed") == protocol)
                     for e in ENGINES}
            out.append(f"- {model}, {PROTOCOLS[protocol][0]}: " + (
                f"nnlite seeds {seeds['nnlite']}, Keras seeds {seeds['keras']}."
                if any(seeds.values()) else "not run."))
    if not all("timing" in r for r in runs):
        # Only the runs made before the study driver: its runs used the fixed Adam.
        out.append("- The ANN and CNN seed-protocol nnlite runs (`parity.json`, "
                   "`parity_runs_cnn*.json`) predate one or both Adam fixes of section 6: ANN "
                   "seed 0 both, the others the float32 `1 - beta` fix. Each fix changes a "
                   "step by < 1e-5 relative, far below what separates two seeds.")
    out += ["- Trained-model transfer: CNN seeds " + (", ".join(
                f"{a['seed']} ({a['protocol_name']} protocol)" for a in agreement)
                or "none") + ". VGG16 and the ANN were not moved between engines after "
            "training (the numerical checks of section 1 cover their layers).",
            ""]
    return out
