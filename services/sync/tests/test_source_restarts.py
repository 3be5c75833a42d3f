"""The watcher's record of a source restart: resumption is the first activity after the restart, not a
small idle time the re-added source reports before it has reached its upstream."""

from __future__ import annotations

from kam_sync.status.watcher import SourceRestart


def test_resumption_is_the_first_activity_after_the_restart() -> None:
    r = SourceRestart()
    r.restarted(now=100.0)
    r.observe(0.5, now=100.2)  # last activity at 99.7: before the restart
    assert r.resumed_at is None and r.to_dict()["resumeSeconds"] is None
    r.observe(None, now=101.0)  # no activity reported yet
    assert r.resumed_at is None
    r.observe(0.3, now=104.0)  # active at 103.7
    assert r.to_dict()["count"] == 1 and r.resume_seconds == 3.7 and r.resumed_at is not None
    r.observe(0.1, now=110.0)  # later activity does not move the resumption
    assert r.resume_seconds == 3.7


def test_a_second_restart_resets_the_resumption() -> None:
    r = SourceRestart()
    r.restarted(now=10.0)
    r.observe(0.0, now=12.0)
    r.restarted(now=50.0)
    d = r.to_dict()
    assert d["count"] == 2 and d["resumedAt"] is None and d["lastRestartAt"] is not None
    r.observe(100.0, now=51.0)  # idle past the stall limit: still stalled
    assert r.resumed_at is None
