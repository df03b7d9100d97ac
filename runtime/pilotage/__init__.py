"""Pilotage: where dossiers wait, how long each step takes, whether due dates and legal delays are met.

Everything is computed by SQL over the history tables (actions, timers, runs), grouped in the database:
Python only reads one row per group (per step, per week, per role...), never one per dossier. The actions
that ended in a closed week are grouped once (`rollup.py`, by `keep_up`): a year is read as some fifty
weeks of groups plus the actions of the weeks around them, with the same figures.

Percentiles (median, 90th) interpolate linearly between the two nearest ranks, as PostgreSQL's
`percentile_cont` does, but from a histogram built by SQL (see `_spreads`): the same statement on SQLite,
which has no percentile aggregate, and on PostgreSQL, where `percentile_cont` would sort every value of the
period (seconds for a year of a million actions) for a precision nobody reads (times are shown in days).

Definitions (said once, shown on the pages):
- time spent at a step: from the action's creation to its end (done, validated, skipped, cancelled), for
  actions that ended in the period;
- an action is late when it ended after its due date, or is still open past it; counted over the actions
  whose due date falls in the period;
- a timer is late when it fired more than `TIMER_GRACE` after its date (its step was reached after the date,
  or no worker ran), or is still pending past that;
- open / overdue per week: the actions open (overdue) at the end of each week.
"""

from .charts import Load, actions_per_week, run_durations, runs_per_week, workload
from .common import (
    DUE_INDEX,
    ENDED_INDEX,
    EXPORTED,
    LATENESS_INDEX,
    LISTED,
    OPEN_INDEX,
    TIMER_GRACE,
    Scope,
    Spread,
    _merged,
    _spread,
    holders,
    resolved,
    versions_of,
)
from .delays import Delay, late_dossiers, legal_delays
from .rollup import keep_up
from .steps import StepFigures, gateway_shares, step_figures, waiting_at

__all__ = [
    "DUE_INDEX",
    "ENDED_INDEX",
    "EXPORTED",
    "LATENESS_INDEX",
    "LISTED",
    "OPEN_INDEX",
    "TIMER_GRACE",
    "Delay",
    "Load",
    "Scope",
    "Spread",
    "StepFigures",
    "_merged",
    "_spread",
    "actions_per_week",
    "gateway_shares",
    "holders",
    "keep_up",
    "late_dossiers",
    "legal_delays",
    "resolved",
    "run_durations",
    "runs_per_week",
    "step_figures",
    "versions_of",
    "waiting_at",
    "workload",
]
