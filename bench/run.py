"""Run every benchmark in ``bench/`` (``*_bench.py``) and collect their result tables.

``--smoke`` runs each one at a tiny size, as CI does: it proves the benchmarks still work
without pretending CI's noisy, shared machine gives meaningful numbers. Full runs write
``bench/results/*.md`` and ``docs/performance.md`` gathers them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("only", nargs="*", help="benchmark names (default: all)")
    args = parser.parse_args()
    failures = 0
    for script in sorted(HERE.glob("*_bench.py")):
        name = script.stem.removesuffix("_bench")
        if args.only and name not in args.only:
            continue
        cmd = [sys.executable, str(script)] + (["--smoke"] if args.smoke else [])
        started = time.perf_counter()
        print(f"== {name} ({'smoke' if args.smoke else 'full'})", flush=True)
        rc = subprocess.call(cmd)
        print(f"== {name}: exit {rc} in {time.perf_counter() - started:.1f} s", flush=True)
        failures += rc != 0
    if not args.smoke:
        assemble()
    return 1 if failures else 0


def assemble() -> None:
    """docs/performance.md = intro + every results table."""
    parts = [(HERE / "README.md").read_text() if (HERE / "README.md").exists() else ""]
    for table in sorted((HERE / "results").glob("*.md")):
        parts.append(table.read_text())
    text = "\n\n".join(p.strip() for p in parts) + "\n"
    (HERE.parent / "docs" / "performance.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
