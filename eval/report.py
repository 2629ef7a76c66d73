"""Outputs of a run: ``results.jsonl`` and ``summary.json`` for machines, ``report.md`` and ``chart.png`` for people.

The chart is a matplotlib figure rendered by the Agg backend (no display); matplotlib is imported only
when a chart is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.runner import EvalRun, ItemResult

OUTPUTS = ("results.jsonl", "summary.json", "report.md", "chart.png")  # what a run writes into --out

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Rates in 0..1 shown in the chart and the headline table, with what "good" means.
RATES: tuple[tuple[str, str], ...] = (
    ("correct", "answerable questions with every must item"),
    ("must_recall", "must items found"),
    ("reference_agreement", "answers the judge finds in agreement with the reference"),
    ("faithfulness_cited", "claims supported by the passages they cite"),
    ("faithfulness_retrieved", "claims supported by some retrieved passage"),
    ("faithfulness_draft", "sentences of the draft (before the citation check) supported by some retrieved passage"),
    ("citation_precision", "cited files that are gold sources"),
    ("citation_recall", "gold sources cited"),
    ("correct_with_gold_citation", "correct answers that cite a gold source"),
    ("retrieval_hit_rate", "questions with a gold source retrieved"),
    ("retrieval_mrr", "mean reciprocal rank of the first gold passage"),
    ("refusal_rate", "unanswerable questions refused (higher is better)"),
    ("false_refusal_rate", "answerable questions refused (lower is better)"),
)
OTHERS: tuple[str, ...] = ("claims", "unsupported_claims", "filtered_claims", "unjudged_claims", "errors",
                           "latency_total_p50", "latency_total_p95", "latency_first_token_p50",
                           "latency_first_token_p95", "prompt_tokens_mean")


def write_outputs(run: EvalRun, out: Path) -> dict[str, Path]:
    """Write the four files into ``out`` (created if needed); returns their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / name for kind, name in zip(("results", "summary", "report", "chart"), OUTPUTS)}
    with paths["results"].open("w", encoding="utf-8") as lines:
        for result in run.results:
            lines.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    paths["summary"].write_text(json.dumps(run.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["report"].write_text(markdown(run), encoding="utf-8")
    draw_chart(run.summary["metrics"], _title(run.summary), run.summary.get("thresholds", {})).savefig(
        paths["chart"], format="png")
    return paths


# --- Markdown ----------------------------------------------------------------------------------------


def markdown(run: EvalRun) -> str:
    summary = run.summary
    parts = [f"# Eval report: {_title(summary)}", "", _run_line(summary.get("run", {})), "",
             "## Metrics", "", _metric_table(summary["metrics"])]
    failures = summary.get("threshold_failures", [])
    if summary.get("thresholds"):
        parts += ["", "## Thresholds", ""]
        parts += [f"- FAILED: {f}" for f in failures] or ["- all thresholds met"]
    parts += ["", "## Per question", "", _item_table(run.results)]
    parts += ["", "## Unsupported claims", ""] + (_unsupported(run.results) or ["none"])
    parts += ["", "## Draft sentences the answer does not show", ""] + (_filtered(run.results) or ["none"])
    parts += ["", "![metrics](chart.png)", ""]
    return "\n".join(parts)


def _title(summary: Mapping[str, Any]) -> str:
    run = summary.get("run", {})
    return f"{run.get('dataset', 'dataset')} · llm {run.get('llm', '?')} · judge {run.get('judge', '?')}"


def _run_line(run: Mapping[str, Any]) -> str:
    """The run's facts on one line, the machine on another; every setting is in summary.json."""
    line = ", ".join(f"{k}: {v}" for k, v in run.items() if not isinstance(v, dict))
    if machine := run.get("machine"):
        line += (f"\n\nMachine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('memory_gb')} GB, "
                 f"load {machine.get('load')}; news-rag {machine.get('versions', {}).get('news-rag')}")
    return line


def _metric_table(metrics: Mapping[str, Any]) -> str:
    rows = ["| metric | value | meaning |", "|---|---:|---|"]
    rows += [f"| {name} | {_fmt(metrics.get(name))} | {meaning} |" for name, meaning in RATES]
    rows += [f"| {name} | {_fmt(metrics.get(name))} | |" for name in OTHERS]
    rows.append(f"| items | {metrics.get('items')} | {metrics.get('answerable')} answerable, "
                f"{metrics.get('unanswerable')} unanswerable |")
    return "\n".join(rows)


def _item_table(results: Sequence[ItemResult]) -> str:
    rows = ["| id | refused | correct | faithful (cited) | cit. P | cit. R | MRR | s | answer |",
            "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        m = r.metrics
        answer = (r.error and f"ERROR: {r.error}") or r.answer
        rows.append(f"| {r.id} | {_yes(r.refused)} | {_yes(m['correct'])} | {_fmt(m['faithfulness_cited'])} | "
                    f"{_fmt(m['citation_precision'])} | {_fmt(m['citation_recall'])} | "
                    f"{_fmt(m['reciprocal_rank'])} | {_fmt(m['latency_total'], 1)} | {_cell(answer)} |")
    return "\n".join(rows)


def _unsupported(results: Sequence[ItemResult]) -> list[str]:
    return [f"- {r.id}: {_cell(claim)}" for r in results for claim in r.unsupported_claims]


def _filtered(results: Sequence[ItemResult]) -> list[str]:
    return [f"- {r.id}: {_cell(claim)}" for r in results for claim in r.filtered_claims]


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _yes(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _yes(value: object) -> str:
    return "–" if value is None else ("yes" if value else "no")


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- PNG chart ---------------------------------------------------------------------------------------

_BAR, _GOOD, _BAD = "#466ebe", "#289650", "#c83c32"


def draw_chart(metrics: Mapping[str, Any], title: str,
               thresholds: Mapping[str, Mapping[str, float]] | None = None) -> Figure:
    """Horizontal bars for every 0..1 rate; a threshold is a green (met) or red (missed) tick on its bar.

    A matplotlib ``Figure`` on the Agg canvas (no display needed); ``write_outputs`` saves it as PNG.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    thresholds = thresholds or {}
    figure = Figure(figsize=(9, 0.34 * len(RATES) + 1.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    names = [name for name, _ in RATES]
    values = [metrics.get(name) for name in names]
    rows = range(len(names))
    axes.barh(rows, [max(0.0, min(1.0, v)) if isinstance(v, (int, float)) else 0.0 for v in values],
              color=_BAR, height=0.6)
    for row, (name, value) in enumerate(zip(names, values)):
        axes.text(1.01, row, _fmt(value) if value is not None else "n/a", va="center", fontsize=9,
                  transform=axes.get_yaxis_transform())
        for bound, limits in thresholds.items():
            if name in limits:
                limit = limits[name]
                met = isinstance(value, (int, float)) and (value >= limit if bound == "min" else value <= limit)
                axes.plot([limit, limit], [row - 0.42, row + 0.42], color=_GOOD if met else _BAD, linewidth=3)
    axes.set_yticks(list(rows), names, fontsize=9)
    axes.invert_yaxis()  # the table's order, top to bottom
    axes.set_xlim(0, 1)
    axes.set_xticks([tick / 10 for tick in range(0, 11, 2)])
    axes.grid(axis="x", color="#e1e1e1")
    axes.set_axisbelow(True)
    axes.set_title(title, loc="left", fontsize=11)
    return figure
