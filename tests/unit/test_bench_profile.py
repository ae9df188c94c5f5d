"""bench.profile reads py-spy's raw format: each function counted once a sample, the frames
in nearly every sample left out, the running frame's share apart."""

from pathlib import Path

from bench.profile import heaviest

RAW = """\
main (m.py:1);loop (l.py:2);save (s.py:3);execute (sqlite.py:52) 6
main (m.py:1);loop (l.py:2);save (s.py:3);seal (c.py:9);save (s.py:3) 2
main (m.py:1);loop (l.py:2);publish (p.py:4) 2
"""


def test_shares_of_a_raw_profile(tmp_path: Path) -> None:
    raw = tmp_path / "ledger.txt"
    raw.write_text(RAW)
    wide, running = heaviest(raw, 10)
    assert wide == [(80.0, "save"), (60.0, "execute"), (20.0, "seal"), (20.0, "publish")]
    assert running[0] == (60.0, "execute (sqlite.py:52)")
    assert sorted(running[1:]) == [(20.0, "publish (p.py:4)"), (20.0, "save (s.py:3)")]
