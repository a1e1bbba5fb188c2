"""Appeals survive kill -9 of the real daemon at random moments (a short run of the stress script)."""

from __future__ import annotations

from appeal_kill import check, run


def test_every_acknowledged_appeal_survives_random_kills(tmp_path):
    counts = check(tmp_path, run(tmp_path, kills=8, seed=5, max_kill_s=2.0))
    assert counts["acknowledged"] >= 3, counts  # the run did save appeals between the kills
    assert counts["missing"] == 0, counts
    assert counts["doubled"] == 0, counts
    assert counts["partial"] == 0, counts
    assert counts["drafts_lost"] == 0, counts  # a half-typed appeal is back after the handset went down
    assert counts["drafts_back_on_screen"] == counts["drafts_at_cut"], counts
