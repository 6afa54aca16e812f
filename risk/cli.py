"""``python -m risk``: assess, batch, backtest, synth, validate, schema.

Exit codes: 0 ok; 1 validation failure (bad policy, bad input, or any unreadable line in a
batch, which is still written out as an error record so the rest of the run is not lost);
2 usage (argparse's own code).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import date
from typing import IO, Any

import orjson

from risk.engine import engine_for
from risk.model import InputError, parse_input
from risk.policy import Policy, PolicyError, load_policy

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _as_of(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m risk", description="Risk tiering engine: "
                                 "recommends an outcome and account tier (FATF tiered CDD).")
    sub = ap.add_subparsers(dest="command", required=True)

    a = sub.add_parser("assess", help="assess one input; print the decision as JSON")
    a.add_argument("--policy", required=True, help="policy YAML file")
    a.add_argument("input", nargs="?", default="-", help="input JSON file, or - for stdin")
    a.add_argument("--as-of", type=_as_of, help="assessment date (default: input assessed_at)")
    a.add_argument("--summary", action="store_true", help="print the compact summary only")

    b = sub.add_parser("batch", help="assess a JSONL file, streaming, into a JSONL file")
    b.add_argument("--policy", required=True)
    b.add_argument("input", help="JSONL input, or - for stdin")
    b.add_argument("output", help="JSONL output, or - for stdout")
    b.add_argument("--as-of", type=_as_of)
    b.add_argument("--full", action="store_true",
                   help="write the full decision with trace (default: compact summary)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--workers", type=int, default=0,
                   help="processes assessing in parallel (default 0: one per CPU, at most "
                        "4); output order is always the input order")

    t = sub.add_parser("backtest", help="transition matrix of a policy against a baseline")
    t.add_argument("--policy", required=True, help="the new (e.g. draft) policy")
    t.add_argument("--baseline", required=True, help="the policy in force")
    t.add_argument("input", help="JSONL of past cases, or - for stdin")
    t.add_argument("--chart", help="write heatmaps to this .png or .svg")
    t.add_argument("--format", choices=("json", "text"), default="json")

    s = sub.add_parser("synth", help="write a synthetic portfolio as JSONL (never real people)")
    s.add_argument("n", type=int)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", default="-")

    v = sub.add_parser("validate", help="validate a policy file")
    v.add_argument("file")

    sub.add_parser("schema", help="print the input JSON Schema")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "assess":
            return _assess(args)
        if args.command == "batch":
            return _batch(args)
        if args.command == "backtest":
            return _backtest(args)
        if args.command == "synth":
            return _synth(args)
        if args.command == "validate":
            p = load_policy(args.file)
            print(f"ok: {p.ref} {p.status} {p.content_hash} ({len(p.jurisdictions)} "
                  f"parameter sets: {', '.join(p.jurisdictions)})")
            return EXIT_OK
        if args.command == "schema":
            from risk.schema import INPUT_SCHEMA

            print(json.dumps(INPUT_SCHEMA, indent=2))
            return EXIT_OK
    except PolicyError as e:
        print(f"policy error: {e}", file=sys.stderr)
        return EXIT_INVALID
    except InputError as e:
        print(f"input error: {e}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return EXIT_OK
    raise AssertionError(args.command)  # pragma: no cover - argparse enforces the choices


def _open_in(stack: ExitStack, name: str) -> IO[str]:
    if name == "-":
        return sys.stdin
    return stack.enter_context(open(name, encoding="utf-8"))


def _open_out(stack: ExitStack, name: str) -> IO[str]:
    if name == "-":
        return sys.stdout
    return stack.enter_context(open(name, "w", encoding="utf-8"))


def _assess(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    with ExitStack() as st:
        text = _open_in(st, args.input).read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError("$", f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
                         ) from None
    d = engine_for(policy).assess(parse_input(data), args.as_of)
    print(json.dumps(d.summary() if args.summary else d.to_dict(), indent=2,
                     ensure_ascii=False))
    return EXIT_OK


def _lines(f: IO[str]) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(f, 1):
        if line.strip():
            yield n, line


class _Worker:
    """Assesses blocks of JSONL text into blocks of UTF-8 JSONL output.

    One per process: the policy is loaded and compiled once per worker, and whole blocks move
    between processes, so the parent never touches single lines and the inter-process cost is
    two buffer copies per block.

    Lines are read and written with orjson (several times faster than the json module, and the
    JSON round trip is most of what a batch costs besides the engine). It differs from the json
    module on input the schema rejects anyway (NaN, integers past 64 bits, lone surrogates), so
    any line that fails, whether as JSON or as input, is redone with the json module: error
    records and exit codes stay exactly what they were, and only the happy path changes speed.
    """

    def __init__(self, policy_path: str, as_of: date | None, full: bool) -> None:
        self.engine = engine_for(load_policy(policy_path))
        self.as_of = as_of
        self.full = full

    def run(self, first_line: int, block: str) -> tuple[bytes, int, int]:
        """Assess every non-blank line of ``block`` (whose first line is number ``first_line``
        in the input); returns the output, the number of cases and the number of errors."""
        out: list[bytes] = []
        errors = 0
        assess, as_of, full = self.engine.assess, self.as_of, self.full
        loads, dumps, nl = orjson.loads, orjson.dumps, orjson.OPT_APPEND_NEWLINE
        # split("\n"), not splitlines(): the file was read with universal newlines, which is
        # exactly how iterating over it used to split lines (splitlines also splits on \x1c,
        # \u2028 and others, which may sit inside a JSON string).
        for n, line in enumerate(block.split("\n"), first_line):
            if not line or line.isspace():
                continue
            try:
                d = assess(parse_input(loads(line)), as_of)
                out.append(dumps(d.to_dict() if full else d.summary(), option=nl))
            except ValueError:  # InputError and orjson.JSONDecodeError are ValueErrors
                text, failed = self._exact(n, line)
                out.append(text.encode("utf-8"))
                errors += failed
        return b"".join(out), len(out), errors

    def _exact(self, n: int, line: str) -> tuple[str, bool]:
        """The line's output line as the json module gives it, and whether it is an error."""
        try:
            d = self.engine.assess(parse_input(json.loads(line)), self.as_of)
        except (InputError, ValueError) as e:
            # A bad line is reported in place and the run goes on: a million-case re-tier
            # should not die on line 700,000. The exit code still says something failed.
            path, msg = (e.path, e.message) if isinstance(e, InputError) else ("$", str(e))
            return _dumps({"line": n, "case_id": _case_id(line),
                           "error": {"path": path, "message": msg}}) + "\n", True
        return _dumps(d.to_dict() if self.full else d.summary()) + "\n", False


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_WORKER: _Worker | None = None


def _init_worker(policy_path: str, as_of: date | None, full: bool) -> None:
    global _WORKER
    _WORKER = _Worker(policy_path, as_of, full)


def _run_block(first_line: int, block: str) -> tuple[bytes, int, int]:
    assert _WORKER is not None  # set by the pool initializer
    return _WORKER.run(first_line, block)


#: Characters of input per block (about a thousand synthetic cases): big enough that the
#: per-block costs (a task, two pickles, a write, the progress bar) vanish per line, small
#: enough that the blocks in flight stay a few megabytes whatever the input size.
BLOCK_CHARS = 1 << 20


def _blocks(f: IO[str], size: int = BLOCK_CHARS) -> Iterator[tuple[int, str]]:
    """Whole lines of ``f`` in blocks of about ``size`` characters, each with the number of
    its first line. Splitting into lines is left to the workers, off the parent's CPU."""
    first = 1
    while block := f.read(size):
        if block[-1] != "\n":
            block += f.readline()  # finish the last line (empty at the end of the file)
        yield first, block
        first += block.count("\n")


def _binary_out(stack: ExitStack, name: str) -> IO[bytes]:
    if name == "-":
        sys.stdout.flush()  # anything already written as text goes first
        return sys.stdout.buffer
    return stack.enter_context(open(name, "wb"))


def _batch(args: argparse.Namespace) -> int:
    import os

    from tqdm import tqdm

    load_policy(args.policy)  # fail fast, in this process, on a bad policy
    workers = args.workers if args.workers > 0 else min(4, os.cpu_count() or 1)
    errors = done = 0
    with ExitStack() as st:
        fin = _open_in(st, args.input)
        fout = _binary_out(st, args.output)
        bar = st.enter_context(tqdm(unit=" cases", file=sys.stderr, disable=args.quiet,
                                    mininterval=0.5, smoothing=0.1))
        # Blocks, not lines, are the unit of work: the bar and the writes happen per block,
        # and memory holds a bounded number of blocks whatever the input size.
        blocks = _blocks(fin)
        if workers == 1:
            w = _Worker(args.policy, args.as_of, args.full)
            for first, block in blocks:
                out, n, errs = w.run(first, block)
                fout.write(out)
                errors += errs
                done += n
                bar.update(n)
        else:
            from collections import deque
            from concurrent.futures import Future, ProcessPoolExecutor

            ex = st.enter_context(ProcessPoolExecutor(
                workers, initializer=_init_worker,
                initargs=(args.policy, args.as_of, args.full)))
            # At most 2 blocks in flight per worker: the reader never runs ahead of the
            # writers, so memory stays flat on a million lines (Pool.imap would read it all).
            pending: deque[Future[tuple[bytes, int, int]]] = deque()
            for first, block in blocks:
                pending.append(ex.submit(_run_block, first, block))
                while len(pending) >= 2 * workers or (pending and pending[0].done()):
                    out, n, errs = pending.popleft().result()
                    fout.write(out)
                    errors += errs
                    done += n
                    bar.update(n)
            while pending:
                out, n, errs = pending.popleft().result()
                fout.write(out)
                errors += errs
                done += n
                bar.update(n)
        fout.flush()
    if errors:
        print(f"{errors} of {done} lines could not be assessed (error records written)",
              file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _case_id(line: str) -> Any:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj.get("case_id") if isinstance(obj, dict) else None


def _backtest(args: argparse.Namespace) -> int:
    from risk.backtest import Backtest

    new: Policy = load_policy(args.policy)
    old: Policy = load_policy(args.baseline)
    bt = Backtest(old, new)
    with ExitStack() as st:
        for n, line in _lines(_open_in(st, args.input)):
            try:
                bt.add(parse_input(json.loads(line)))
            except (InputError, ValueError) as e:
                bt.errors += 1
                print(f"line {n}: {e}", file=sys.stderr)
    if args.chart:
        bt.chart(args.chart)
    if args.format == "text":
        print(bt.to_text())
    else:
        print(json.dumps(bt.to_dict(), indent=2))
    return EXIT_INVALID if bt.errors else EXIT_OK


def _synth(args: argparse.Namespace) -> int:
    from risk.synth import portfolio

    if args.n < 0:
        print("error: N must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with ExitStack() as st:
        out = _open_out(st, args.output)
        for case in portfolio(args.n, args.seed):
            out.write(dumps(case))
            out.write("\n")
        out.flush()
    return EXIT_OK
