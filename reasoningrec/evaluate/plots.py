"""ROC curve and reliability diagram (PNG) for a report folder; matplotlib's Agg backend, so
it runs headless.

    from reasoningrec.evaluate.plots import plot_roc, plot_calibration
    plot_roc(labels, p_yes, "reports/x/roc.png", title="ml1m test, popularity")
"""
from __future__ import annotations

from pathlib import Path

from .metrics import UndefinedMetric, calibration_bins, roc_auc, roc_curve


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)   # never needs a display, whatever the environment says
    import matplotlib.pyplot as plt
    return plt


def plot_roc(labels, p_yes, path: str | Path, title: str = "") -> Path:
    """ROC curve with its AUC in the legend and the chance diagonal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    try:
        fpr, tpr, _ = roc_curve(labels, p_yes)
        ax.plot(fpr, tpr, lw=2, label=f"model (AUC = {roc_auc(labels, p_yes):.4f})")
    except UndefinedMetric as exc:   # still write a figure that says why it is empty
        ax.text(0.5, 0.5, str(exc), ha="center", va="center", wrap=True)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="chance (AUC = 0.5)")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="False positive rate",
           ylabel="True positive rate", title=title or "ROC curve")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_calibration(labels, p_yes, path: str | Path, title: str = "", ece: float | None = None
                     ) -> Path:
    """Reliability diagram: like rate against mean P(Yes) per bin, bin counts underneath."""
    plt = _pyplot()
    bins = calibration_bins(labels, p_yes)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5, 6.2), dpi=110, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    filled = [b for b in bins if b["count"]]
    label = "model" + (f" (ECE = {ece:.4f})" if ece is not None else "")
    top.plot([b["mean_p"] for b in filled], [b["like_rate"] for b in filled], "o-", lw=2,
             label=label)
    for b in filled:
        top.annotate(str(b["count"]), (b["mean_p"], b["like_rate"]), textcoords="offset points",
                     xytext=(0, 6), ha="center", fontsize=7)
    top.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    top.set(xlim=(0, 1), ylim=(0, 1.05), ylabel="Observed like rate (label = 1)",
            title=title or "Calibration")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    width = bins[0]["hi"] - bins[0]["lo"]
    bottom.bar([b["lo"] for b in bins], [b["count"] for b in bins], width=width * 0.9,
               align="edge", color="tab:blue", alpha=0.7)
    bottom.set(xlabel="Predicted P(Yes)", ylabel="Samples per bin")
    bottom.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig, path) -> Path:
    import matplotlib.pyplot as plt
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
