"""Run every benchmark module and print its table: python -m benchmarks [name ...]."""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ("bench_ingest", "bench_workbook", "bench_indicators", "bench_explorer", "bench_report",
           "bench_scale")


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}\n")
    if not rows:
        print("(no rows)")
        return
    headers = list(rows[0])
    cells = [[str(row.get(h, "")) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) + " |")


def main(names: list[str]) -> int:
    selected = names or list(MODULES)
    for name in selected:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            print(f"\n## {name}: not available ({exc})")
            continue
        started = time.perf_counter()
        rows = module.run()
        print_table(f"{name} ({time.perf_counter() - started:.0f} s)", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
