"""`mgremind run`: APScheduler fires the planner's instants, apprise delivers, SQLite remembers.

One module a job:

- decisions.py: what to schedule, what to catch up, when to retry, what is late; pure
  functions, tested with an injected clock;
- schedule.py: every reminder of today and tomorrow is a `DateTrigger` job at the planner's
  instant (never a cron rule: the planner already resolved DST); a job at local midnight rolls
  the horizon on; SIGHUP rebuilds it. The only module that touches APScheduler;
- delivery.py: a reminder through every channel, retried with backoff. The state database,
  not a job store, decides what was sent: a reminder is delivered at most once per channel,
  and one missed while the daemon was down is sent late once if it is younger than
  `catch_up`, else recorded as missed;
- escalation.py: after `escalate_after` missed in a row, one message to the caregivers;
- loop.py: the main thread sleeps in `select` on a self-pipe (signals, job pokes) and a
  timerfd on the wall clock armed for the next job: after a suspend or a clock jump it wakes
  at once and nudges the scheduler, whose own sleep counts monotonic time and would
  oversleep. No polling: the only periodic wake-up is systemd's watchdog, when asked for;
- current.py: the configuration and channels in force, swapped whole by a reload.

The texts people read (late, repeat, escalation, the STATUS= line) are in mgremind/render.py.
"""

from mgremind.daemon.loop import run

__all__ = ["run"]
