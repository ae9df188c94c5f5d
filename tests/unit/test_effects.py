"""A fake back office does each effect once per idempotency key, across restarts."""

from pathlib import Path

from services.entity_adapters.backoffices.effects import EffectLog


def test_an_effect_is_performed_once_per_key_and_survives_a_restart(tmp_path: Path) -> None:
    performed: list[str] = []

    def charge() -> dict[str, str]:
        performed.append("charge")
        return {"receipt_number": f"BN-{len(performed)}"}

    log = EffectLog(tmp_path / "bn.sqlite")
    first = log.once("attempt-1", "fee-charged", charge)
    again = log.once("attempt-1", "fee-charged", charge)
    reopened = EffectLog(tmp_path / "bn.sqlite").once("attempt-1", "fee-charged", charge)
    other = log.once("attempt-2", "fee-charged", charge)

    assert first == again == reopened == {"receipt_number": "BN-1"}
    assert other == {"receipt_number": "BN-2"}
    assert performed == ["charge", "charge"]
    assert log.count("fee-charged") == 2
    assert log.count("dni-duplicate-issued") == 0
