"""The engines of the runs this process stepped last, kept in memory so that the next step of the same run
need not rebuild its engine from the stored state.

An engine is kept with the state it dumped. It is handed back only when the run's stored state, as just read
under the run's lock, equals that dump: what another process wrote since, or a transaction that rolled back,
gives another state, and the engine is rebuilt from the stored one as usual. An engine is taken out while it
works, so that no two requests share one."""

import threading
from collections import OrderedDict

from bpmn.engine import Engine

KEPT = 256  # runs per process (SEQUENCES_ENGINE_CACHE); a run's engine weighs tens of kilobytes

_engines: OrderedDict[int, tuple[Engine, dict]] = OrderedDict()
_lock = threading.Lock()
enabled = True


def configure(kept: int) -> None:
    """Keeps the engines of at most `kept` runs; 0 keeps none."""
    global KEPT, enabled
    KEPT, enabled = max(0, kept), kept > 0
    with _lock:
        _trim()


def take(run_id: int, state: dict | None, context: dict) -> Engine | None:
    """The kept engine of the run if it is the engine of `state`, with `context` set; else None."""
    with _lock:
        kept = _engines.pop(run_id, None)
    if kept is None or state is None or kept[1] != state:
        return None
    engine = kept[0]
    engine.context = context
    return engine


def keep(run_id: int, engine: Engine, state: dict | None) -> None:
    """Keeps `engine`, whose dump is `state` (the run's new stored state)."""
    if not enabled or state is None:
        return
    with _lock:
        _engines[run_id] = (engine, state)
        _engines.move_to_end(run_id)
        _trim()


def _trim() -> None:
    """Forgets the engines used longest ago beyond KEPT; the lock is held."""
    while len(_engines) > KEPT:
        _engines.popitem(last=False)


def clear() -> None:
    with _lock:
        _engines.clear()
