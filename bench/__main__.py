"""`python -m bench [name ...]`: runs the named benchmarks, or all of them."""

import importlib
import sys

BENCHMARKS = ["engine_loops", "run_loops", "timers", "workspace", "pilotage", "load", "migrations"]


def main(argv: list[str]) -> None:
    for name in argv or BENCHMARKS:
        print(f"\n=== bench.{name}")
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
