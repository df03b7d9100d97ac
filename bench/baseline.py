"""The code a benchmark compares against, run in the same minutes as today's: a git worktree of an earlier
commit (`BENCH_BASELINE`, default the commit before the timer and pooling work), whose processes are started
with that tree first on PYTHONPATH. The database is the one today's code migrated: the baseline only reads
and writes tables and columns it knows."""

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = os.environ.get("BENCH_BASELINE", "8fabf44")


@contextlib.contextmanager
def checkout(ref: str = REF) -> Iterator[Path]:
    """A detached worktree of `ref`, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bench-baseline-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref],
                   check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                       check=False, capture_output=True)


def sequences(tree: Path | None) -> tuple[list[str], dict[str, str]]:
    """The `sequences` command of `tree` (today's when None), and the environment it needs."""
    if tree is None:
        return [str(Path(sys.executable).with_name("sequences"))], {}
    start = "import sys; from web.cli import main; sys.argv[0] = 'sequences'; main()"
    # -P: `python -c` would otherwise put the current directory first on sys.path, before PYTHONPATH, and a
    # benchmark started from a checkout would run that checkout's code as the baseline.
    return [sys.executable, "-P", "-c", start], {"PYTHONPATH": str(tree)}
