"""The report's charts as PNG files (matplotlib, no display): messages per month, questions by
topic, satisfaction by month against the 90 % line, feedback by category."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bot.i18n import gettext_for  # noqa: E402
from bot.report.content import ReportContent, Table, month_label  # noqa: E402
from bot.report.figures import SATISFACTION_TARGET  # noqa: E402

DPI = 110
SIZE = (6.3, 3.0)


def _table(content: ReportContent, group: str, index: int) -> Table:
    return next(g for g in content.groups if g.key == group).tables[index]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _bars(title: str, labels: list[str], values: list[int], path: Path, xlabel: str) -> Path:
    fig, ax = plt.subplots(figsize=SIZE)
    labels, values = labels[:10][::-1], values[:10][::-1]
    ax.barh(labels or ["–"], values or [0], color="#2f6f9f")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _save(fig, path)


def draw_all(content: ReportContent, folder: Path) -> list[tuple[str, Path]]:
    """(caption, png) for each chart, written into `folder`."""
    t = gettext_for(content.locale)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    months = _table(content, "comm", 4)
    labels = [month_label(r[0]) for r in months.rows]
    fig, ax = plt.subplots(figsize=SIZE)
    bottom = [0] * len(labels)
    for col, color in ((1, "#2f6f9f"), (2, "#d9822b"), (3, "#a33")):
        values = [r[col] for r in months.rows]
        ax.bar(labels, values, bottom=bottom, label=months.headers[col], color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(t("Messages per month"))
    ax.legend(fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    out.append((t("Messages per month"), _save(fig, folder / "messages.png")))

    topics = _table(content, "questions", 1)
    out.append((t("Questions per topic"), _bars(
        t("Questions per topic"), [r[0] for r in topics.rows], [r[1] for r in topics.rows],
        folder / "questions.png", t("Questions"))))

    monthly = _table(content, "feedback", 3)
    fig, ax = plt.subplots(figsize=SIZE)
    mlabels = [month_label(r[0]) for r in monthly.rows]
    rates = [None if r[3] is None else r[3] * 100 for r in monthly.rows]
    ax.plot(mlabels, [v if v is not None else float("nan") for v in rates], marker="o",
            color="#2f6f9f", label=t("Satisfaction rate"))
    ax.axhline(SATISFACTION_TARGET * 100, color="#a33", linestyle="--",
               label=t("Target") + " 90 %")
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title(t("Satisfaction per month"))
    ax.legend(fontsize=8, loc="lower right")
    out.append((t("Satisfaction per month"), _save(fig, folder / "satisfaction.png")))

    cats = _table(content, "feedback", 1)
    out.append((t("Feedback per category"), _bars(
        t("Feedback per category"), [r[0] for r in cats.rows], [r[1] for r in cats.rows],
        folder / "feedback.png", t("Feedback"))))
    return out
