"""Outputs of a run: ``results.jsonl`` and ``summary.json`` for machines, ``report.md`` and ``chart.png`` for people.

The chart is drawn with Pillow (already installed with Gradio) rather than adding matplotlib for one
bar chart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from eval.runner import EvalRun, ItemResult

# Rates in 0..1 shown in the chart and the headline table, with what "good" means.
RATES: tuple[tuple[str, str], ...] = (
    ("correct", "answerable questions with every must item"),
    ("must_recall", "must items found"),
    ("reference_agreement", "answers the judge finds in agreement with the reference"),
    ("faithfulness_cited", "claims supported by the passages they cite"),
    ("faithfulness_retrieved", "claims supported by some retrieved passage"),
    ("citation_precision", "cited files that are gold sources"),
    ("citation_recall", "gold sources cited"),
    ("correct_with_gold_citation", "correct answers that cite a gold source"),
    ("retrieval_hit_rate", "questions with a gold source retrieved"),
    ("retrieval_mrr", "mean reciprocal rank of the first gold passage"),
    ("refusal_rate", "unanswerable questions refused (higher is better)"),
    ("false_refusal_rate", "answerable questions refused (lower is better)"),
)
OTHERS: tuple[str, ...] = ("claims", "unsupported_claims", "unjudged_claims", "invalid_markers", "invented_markers",
                           "errors",
                           "latency_total_p50", "latency_total_p95", "latency_first_token_p50",
                           "latency_first_token_p95", "prompt_tokens_mean")


def write_outputs(run: EvalRun, out: Path) -> dict[str, Path]:
    """Write the four files into ``out`` (created if needed); returns their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.jsonl", "summary": out / "summary.json", "report": out / "report.md",
             "chart": out / "chart.png"}
    with paths["results"].open("w", encoding="utf-8") as lines:
        for result in run.results:
            lines.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    paths["summary"].write_text(json.dumps(run.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["report"].write_text(markdown(run), encoding="utf-8")
    draw_chart(run.summary["metrics"], _title(run.summary), run.summary.get("thresholds", {})).save(paths["chart"])
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
    parts += ["", "![metrics](chart.png)", ""]
    return "\n".join(parts)


def _title(summary: Mapping[str, Any]) -> str:
    run = summary.get("run", {})
    return f"{run.get('dataset', 'dataset')} · llm {run.get('llm', '?')} · judge {run.get('judge', '?')}"


def _run_line(run: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in run.items())


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

_WIDTH, _ROW, _LABEL_W, _MARGIN = 900, 34, 230, 20
_BAR, _GOOD, _BAD, _TEXT, _GRID = (70, 110, 190), (40, 150, 80), (200, 60, 50), (30, 30, 30), (225, 225, 225)


def draw_chart(metrics: Mapping[str, Any], title: str,
               thresholds: Mapping[str, Mapping[str, float]] | None = None) -> Image.Image:
    """Horizontal bars for every 0..1 rate; a threshold is a green (met) or red (missed) tick on its bar."""
    thresholds = thresholds or {}
    font = ImageFont.load_default(size=14)
    height = 2 * _MARGIN + 40 + _ROW * len(RATES) + 20
    image = Image.new("RGB", (_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((_MARGIN, _MARGIN), title, fill=_TEXT, font=ImageFont.load_default(size=16))
    span = _WIDTH - _LABEL_W - 2 * _MARGIN - 50
    top = _MARGIN + 40
    for tick in range(0, 11, 2):
        x = _LABEL_W + span * tick / 10
        draw.line([(x, top - 4), (x, top + _ROW * len(RATES))], fill=_GRID)
        draw.text((x - 8, top + _ROW * len(RATES) + 4), f"{tick / 10:.1f}", fill=_TEXT, font=font)
    for row, (name, _) in enumerate(RATES):
        y = top + row * _ROW
        value = metrics.get(name)
        draw.text((_MARGIN, y + 8), name, fill=_TEXT, font=font)
        if isinstance(value, (int, float)):
            draw.rectangle([(_LABEL_W, y + 6), (_LABEL_W + span * max(0.0, min(1.0, value)), y + _ROW - 6)],
                           fill=_BAR)
        # "not measured" in words: the bundled font has no glyph for the report's en dash
        shown = _fmt(value) if value is not None else "n/a"
        draw.text((_LABEL_W + span + 8, y + 8), shown, fill=_TEXT, font=font)
        _draw_thresholds(draw, name, value, thresholds, _LABEL_W, span, y)
    return image


def _draw_thresholds(draw: ImageDraw.ImageDraw, name: str, value: object,
                     thresholds: Mapping[str, Mapping[str, float]], left: int, span: int, y: int) -> None:
    for bound, limits in thresholds.items():
        if name not in limits:
            continue
        limit = limits[name]
        met = isinstance(value, (int, float)) and (value >= limit if bound == "min" else value <= limit)
        x = left + span * limit
        draw.line([(x, y + 2), (x, y + _ROW - 2)], fill=_GOOD if met else _BAD, width=3)
