"""Running sequences on dossiers: runs, actions, role holders, timers, events and the history."""
