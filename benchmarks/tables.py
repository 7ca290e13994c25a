"""The README's tables, printed as Markdown from the raw JSON in benchmarks/results/.

    python benchmarks/tables.py            # every table whose JSON is there
    python benchmarks/tables.py --changed BEFORE.json AFTER.json   # cuts gained and lost, per result
    python benchmarks/tables.py --paired A.json:NAME B.json:NAME ...   # B ... against A on the same cuts
    python benchmarks/tables.py --paired "A.json:NAME, cross-file" ...   # `nib eval --repo`: its cross-file cuts

Each JSON file carries the command that made it; the tables add nothing to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def quality(report: dict) -> list[str]:
    rows = [
        "| model | token accuracy | identifier MRR@5 | top-1 | line exact match | line edit similarity "
        "| list p50 in eval |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        if "token_accuracy" not in r:
            continue
        name = "trigram baseline" if r["name"] == "trigram" else f"`{r['name']}`"
        latency = f"{r['list_latency_ms_p50']} ms" if r.get("list_latency_ms_p50") is not None else ""
        rows.append(
            f"| {name} | {r['token_accuracy']:.3f} | {r['identifier_mrr5']:.3f} | {r['identifier_top1']:.3f} "
            f"| {r['line_exact_match']:.3f} | {r['line_edit_similarity']:.1f} | {latency} |"
        )
    return rows


def healing(report: dict) -> list[str]:
    rows = [
        "| healing | mid-token EM | mid-token ES | boundary EM | boundary ES | statement p50 / p95 "
        "| list MRR@5 | list p50 / p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        for mode, h in r.get("healing", {}).items():
            listed = (
                f"{h['list_mrr5']:.3f} | {h['list_ms_p50']} / {h['list_ms_p95']} ms" if "list_mrr5" in h else "- | -"
            )  # an engine: the statement only
            rows.append(
                f"| {mode} | {h['mid']['exact_match']:.3f} | {h['mid']['edit_similarity']:.1f} "
                f"| {h['boundary']['exact_match']:.3f} | {h['boundary']['edit_similarity']:.1f} "
                f"| {h['ms_p50']} / {h['ms_p95']} ms | {listed} |"
            )
    return rows


def engine_lines(report: dict) -> list[str]:
    """The statement from an engine (`nib eval --engine`): lines only."""
    rows = [
        "| statement from | line exact match | line edit similarity | rest of line at identifier starts: EM "
        "| similarity after the cursor | p50 / p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        rows.append(
            f"| {r['name']} | {r['line_exact_match']:.3f} | {r['line_edit_similarity']:.1f} "
            f"| {r['name_line_exact_match']:.3f} | {r['name_line_edit_similarity']:.1f} "
            f"| {r['line_ms_p50']} / {r['line_ms_p95']} |"
        )
    return rows


def ranking(report: dict) -> list[str]:
    tables = {t["typed"]: t for t in report["tables"]}
    kinds = sorted(tables[0]["points_by_kind"])
    head = "| ranker | " + " | ".join(
        f"MRR@5, {t} typed | top-1 | " + " | ".join(kinds) + " | p50 / p95 ms" for t in tables
    )
    rows = [head + " |", "|---" * (1 + len(tables) * (3 + len(kinds))) + "|"]
    for name in tables[0]["rankers"]:
        cells = []
        for t in tables.values():
            r = t["rankers"][name]
            cells += [f"{r['mrr5']:.3f}", f"{r['top1']:.3f}"]
            cells += [f"{r['mrr5_by_kind'].get(k, 0):.3f}" for k in kinds]
            cells.append(f"{r['ms_p50']} / {r['ms_p95']}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    points = ", ".join(f"{n} {k}" for k, n in tables[0]["points_by_kind"].items())
    return rows + ["", f"(points: {points}; weights tuned on the dev split, MRR@5 there {report['dev_mrr5']})"]


def latency(report: dict) -> list[str]:
    rows = ["| replay | server | request | n | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|---|---|"]
    for replay, servers in report["replays"].items():
        for server, kinds in servers.items():
            for kind, s in kinds.items() if isinstance(kinds, dict) else ():
                if isinstance(s, dict) and s.get("n"):
                    rows.append(f"| {replay} | {server} | {kind} | {s['n']} | {s['p50']} | {s['p95']} | {s['p99']} |")
    cold = report.get("nib first list after opening a 2k-token file")
    if cold:
        rows.append(
            f"| cold open | nib | first list after opening a 2k-token file | {cold['n']} | {cold['p50']} "
            f"| {cold['p95']} | {cold['p99']} |"
        )
    for kind, c in report.get("cold: nib after opening a 2k-token file it has not seen", {}).items():
        rows.append(f"| cold open, both at once | nib | {kind} | {c['n']} | {c['p50']} | {c['p95']} | {c['p99']} |")
    return rows


def load(report: dict) -> list[str]:
    engine = report.get("engine", "local") != "local"
    rows = [
        "| editors | list p50 / p95 / p99 ms | ghost text p50 / p95 / p99 ms | requests/s | documents wrong |"
        + (" engine: answered / timed out or failed / cancelled / not asked (resting) |" if engine else ""),
        "|---|---|---|---|---|" + ("---|" if engine else ""),
    ]
    for r in report["runs"]:
        li, st = r["list"], r["statement"]
        e = r.get("engine_requests")
        rows.append(
            f"| {r['editors']} | {li['p50']:.1f} / {li['p95']:.1f} / {li['p99']:.1f} "
            f"| {st['p50']:.1f} / {st['p95']:.1f} / {st['p99']:.1f} | {r['requests_per_s']} "
            f"| {len(r['documents_wrong'])} of {r['documents_checked']} |"
            + (f" {e['answered']} / {e['failed']} / {e['cancelled']} / {e.get('skipped', 0)} |" if e else "")
        )
    return rows


def profile(report: dict) -> list[str]:
    rows = ["| step | CPU ms | share | of which the model's forward pass |", "|---|---|---|---|"]
    for step, s in report["steps"].items():
        rows.append(f"| {step} | {s['ms']} | {s['share']:.1%} | {s['forward_share']:.0%} |")
    return rows


def two_models(report: dict) -> list[str]:
    """One model's row of the two-model quality table (pretrained/quality_*.json)."""
    rows = []
    for r in report["results"]:
        rows.append(
            f"| {r['name']} | {r['token_accuracy']:.3f} | {r['identifier_mrr5']:.3f} | "
            f"{r['identifier_top1']:.3f} | {r['line_exact_match']:.3f} | {r['line_edit_similarity']:.1f} | "
            f"{r['name_line_exact_match']:.3f} | {r['name_line_edit_similarity']:.1f} | "
            f"{r['list_latency_ms_p50']} ms | {r['name_line_ms_p50']} ms |"
        )
        rows.append(
            "minConfidence % (shown / exact of shown): "
            + ", ".join(f"{c['min_confidence']}: {c['shown']:.2f} / {c['exact_shown']}" for c in r["confidence_curve"])
        )
    return rows


def models(report: dict) -> list[str]:
    rows = [
        "| model | ghost text p50 / p95 / p99 | first ghost text after opening a 2k-token file (p50) "
        "| resident memory |",
        "|---|---|---|---|",
    ]
    for name, m in report["models"].items():
        s = m["statement"]
        rows.append(
            f"| {name} | {s['p50']} / {s['p95']} / {s['p99']} ms | "
            f"{m['cold_statement_2k_tokens']['p50']} ms | {m['rss_mb']} MB |"
        )
    return rows


def levers(report: dict) -> list[str]:
    rows = ["| variant | step ms | 448-token prefill ms | MB | top-1 vs fp32 |", "|---|---|---|---|---|"]
    for group in ("quantization", "head"):
        for name, v in report.get(group, {}).items():
            top1 = v.get("top1_vs_fp32", "")
            rows.append(f"| {name} | {v['step_ms']} | {v['prefill_448_ms']} | {v['mb']} | {top1} |")
    drafting = report["drafting"]
    if "cuts" in drafting:  # written before levers.py measured drafting per model: Gemma's
        drafting = {"gemma3-270m": drafting}
    for model, runs in drafting.items():
        for name, d in runs.items():
            if isinstance(d, dict):
                rows.append(
                    f"drafting, {model}, {name}: statement p50 / p95 / mean {d['p50_ms']} / {d['p95_ms']} / "
                    f"{d['mean_ms']} ms, {d['tokens_per_pass']} tokens a pass"
                )
        rows.append(f"drafting, {model}: the same text at {runs['same_text']} of {runs['cuts']} cuts")
    if "chunked_prefill" in report:
        rows.append(
            "chunked prefill of 2,000 tokens, ms: "
            + ", ".join(f"{k}: {v}" for k, v in report["chunked_prefill"]["ms"].items())
        )
    return rows


def name_lines(report: dict) -> list[str]:
    """The rest of the line at identifier starts, each model with its interval, and each later model's
    difference from the first on the same cuts (paired)."""
    split = Path(report["dir"]).name
    rows = [
        f"| {split}: model | rest of line exact [95% CI] | similarity after the cursor [95% CI] | cuts | p50 in eval |",
        "|---|---|---|---|---|",
    ]
    for r in report["results"]:
        rows.append(
            f"| `{Path(r['name'].split(' fim=')[0]).name}`{_fim(r['name'])} | {r['name_line_exact_match']:.3f} "
            f"{_ci(r['name_line_exact_match_ci95'], 3)} | {r['name_line_edit_similarity']:.1f} "
            f"{_ci(r['name_line_edit_similarity_ci95'], 1)} | {r['name_line_points']} | {r['name_line_ms_p50']} ms |"
        )
    for d in report.get("paired", []):
        rows.append(
            f"| difference: `{Path(d['name'].split(' fim=')[0]).name}`{_fim(d['name'])} minus "
            f"`{Path(d['against'].split(' fim=')[0]).name}`{_fim(d['against'])} | {d['exact_match_diff']:+.3f} "
            f"{_ci(d['exact_match_diff_ci95'], 3)} | {d['edit_similarity_diff']:+.1f} "
            f"{_ci(d['edit_similarity_diff_ci95'], 1)} | {d['points']} (paired) | |"
        )
    return rows


def project(report: dict) -> list[str]:
    """The rest of the line at identifier starts with and without project context (`nib eval --repo`):
    every cut and the cross-file ones, with intervals, and each budget's paired difference from none."""
    split = Path(report["dir"]).name
    rows = [
        f"| {split}: project context | exact, all cuts [95% CI] | similarity | exact, cross-file [95% CI] | "
        "cuts (cross-file) | p50 in eval |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        c = r["cross_file"]
        rows.append(
            f"| {_budget(r['name'])} | {r['name_line_exact_match']:.3f} {_ci(r['name_line_exact_match_ci95'], 3)} | "
            f"{r['name_line_edit_similarity']:.1f} | {c['name_line_exact_match']:.3f} "
            f"{_ci(c['name_line_exact_match_ci95'], 3)} | {r['name_line_points']} ({c['name_line_points']}) | "
            f"{r['name_line_ms_p50']} ms |"
        )
    for everywhere, cross in zip(report["paired"], report["paired_cross_file"], strict=True):
        rows.append(
            f"| {_budget(everywhere['name'])} minus none | {everywhere['exact_match_diff']:+.3f} "
            f"{_ci(everywhere['exact_match_diff_ci95'], 3)} | {everywhere['edit_similarity_diff']:+.1f} | "
            f"{cross['exact_match_diff']:+.3f} {_ci(cross['exact_match_diff_ci95'], 3)} | paired | |"
        )
    return rows


def _budget(name: str) -> str:
    """ "qwen2.5-coder-0.5b project=256 repo similar" -> "256 tokens, repo similar"; "... project=0" -> "none" """
    budget, *layout = name.split(" project=")[1].split()
    return "none" if budget == "0" else f"{budget} tokens" + (f", {' '.join(layout)}" if layout else "")


def _ci(interval, digits: int) -> str:
    return f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]" if interval else ""


def _fim(name: str) -> str:
    return f" FIM {name.split(' fim=')[1]}" if " fim=" in name else ""


TABLES = {
    "quality.json": [quality, healing],
    "ranking.json": [ranking],
    "latency.json": [latency],
    "load.json": [load],
    "typing/profile_before.json": [profile],
    "typing/profile_after.json": [profile],
    "pretrained/quality_bundled.json": [two_models],
    "pretrained/quality_gemma.json": [two_models],
    "pretrained/models.json": [models],
    "pretrained/levers.json": [levers],
    "pretrained/drafting_bundled.json": [levers],
    "pretrained/ranking_bundled.json": [ranking],
    "pretrained/ranking_gemma.json": [ranking],
    "engine/quality_engine.json": [engine_lines],
    "engine/healing_engine.json": [healing],
    "engine/load_local_gemma.json": [load],
    "engine/load_engine.json": [load],
    "engine/load_engine_10s.json": [load],
    "engine/load_engine_after_review.json": [load],
    "qwen/fresh_name_lines.json": [name_lines],
    "qwen/test_name_lines.json": [name_lines],
    "qwen/dev_fim.json": [name_lines],
    "qwen/models_fresh.json": [models],
    "qwen/latency_fresh_gemma3-270m_8cps.json": [latency],
    "qwen/latency_fresh_gemma3-270m_b2b.json": [latency],
    "qwen/latency_fresh_qwen2.5-coder-0.5b_8cps.json": [latency],
    "qwen/latency_fresh_qwen2.5-coder-0.5b_b2b.json": [latency],
    "project/dev_layouts.json": [project],
    "project/dev_repo.json": [project],
    "project/fresh-dev_repo.json": [project],
    "project/fresh_repo.json": [project],
    "project/test_repo.json": [project],
    "project/fresh-dev_repo_typed.json": [project],
    "project/fresh_repo_typed.json": [project],
    "project/test_repo_typed.json": [project],
    "project/latency_fresh_with.json": [latency],
    "project/latency_fresh_without.json": [latency],
    "project/fresh-dev_repo_adapter.json": [project],
    "qwen/dev_fim_adapter_line_grid.json": [name_lines],
    "qwen/fresh_fim_adapter_line_grid.json": [name_lines],
    "qwen/test_fim_adapter_line_grid.json": [name_lines],
    "qwen/latency_fresh_fim_adapter_line.json": [latency],
    "qwen/latency_fresh_fim_adapter_grid.json": [latency],
    "qwen/latency_fresh_fim_adapter_off.json": [latency],
    "qwen/latency_fresh_fim_adapter_off_rerun.json": [latency],
    **{
        f"loops/{split}_{model}.json": [name_lines] for split in ("dev", "fresh", "test") for model in ("gemma", "qwen")
    },
    **{f"loops/latency_gemma_{run}.json": [latency] for run in ("guard1", "noguard1", "guard2", "noguard2")},
    "memory/closed_states_dropped_qwen.json": [latency],
    "memory/closed_states_kept_qwen.json": [latency],
    **{
        f"project/{split}_repo_similar{run}.json": [project]
        for split in ("fresh-dev", "fresh", "test")
        for run in ("", "_final")
    },
    "project/fresh-dev_repo_similar_first.json": [project],
    "project/latency_fresh_with_similar.json": [latency],
    "project/latency_fresh_without_similar.json": [latency],
}


def changed(before: dict, after: dict) -> list[str]:
    """For each result of two runs on the same cuts (the same name): the cuts exact in one only."""
    rows = ["| result | exact before | exact after | cuts gained | cuts lost |", "|---|---|---|---|---|"]

    def per_cut(report: dict) -> dict[str, str]:
        found = {}
        for r in report["results"]:
            found[r["name"]] = r["name_line_exact_per_cut"]
            if "cross_file" in r:  # `nib eval --repo`: the cross-file subset too
                found[r["name"] + ", cross-file"] = r["cross_file"]["name_line_exact_per_cut"]
        return found

    old = per_cut(before)
    for name, b in per_cut(after).items():
        a = old.get(name)
        if a is None or len(a) != len(b):
            continue
        gained = sum(x == "0" and y == "1" for x, y in zip(a, b, strict=True))
        lost = sum(x == "1" and y == "0" for x, y in zip(a, b, strict=True))
        rows.append(f"| {name} | {a.count('1')} | {b.count('1')} | {gained} | {lost} |")
    return rows


def paired_rows(specs: list[str]) -> list[str]:
    """Results of several reports on the same cuts (FILE:NAME; FILE alone: its first result), each
    later one against the first: the paired difference of the rest of the line with its interval."""
    from nib.model.eval.quality import paired

    results = []
    for spec in specs:
        path, _, name = spec.partition(":")
        found = json.loads(Path(path).read_text())["results"]
        subset = name.endswith(", cross-file")
        name = name.removesuffix(", cross-file")
        result = next(r for r in found if r["name"] == name) if name else found[0]
        results.append(result["cross_file"] if subset else result)
    rows = [
        "| result | against | exact, difference [95% CI] | similarity, difference [95% CI] | cuts |",
        "|---|---|---|---|---|",
    ]
    for d in paired(results):
        rows.append(
            f"| {d['name']} | {d['against']} | {d['exact_match_diff']:+.3f} {_ci(d['exact_match_diff_ci95'], 3)} "
            f"| {d['edit_similarity_diff']:+.1f} {_ci(d['edit_similarity_diff_ci95'], 1)} | {d['points']} |"
        )
    return rows


def main() -> int:
    if sys.argv[1:2] == ["--paired"]:
        print("\n".join(paired_rows(sys.argv[2:])))
        return 0
    if sys.argv[1:2] == ["--changed"]:
        before, after = (json.loads(Path(p).read_text()) for p in sys.argv[2:4])
        print("\n".join(changed(before, after)))
        return 0
    for name, makers in TABLES.items():
        path = RESULTS / name
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        print(f"<!-- {name}: {report.get('command', '')} -->")
        for make in makers:
            print("\n".join(make(report)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
