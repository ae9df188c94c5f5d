"""The seeded demo citizens and what the fake back offices know about them (see the README).

- 40000001 succeeds everywhere;
- 40000002 is unknown to RENIEC;
- 40000003 has pending vehicle tax debts at SAT;
- 40000004 has the payment declined by Banco de la Nación;
- 40000005 is refused by SUNARP when registering a transfer, after paying (refund path);
- 40000006's back offices fail transiently twice for each request, then answer;
- 40000007 owns the vehicle ABC-123 and sells it in good standing;
- 40000008's transfer registration is accepted by SUNARP at once and decided about 20 s later
  (a deferred answer).
"""

from dataclasses import dataclass
from datetime import date, timedelta

SUCCEEDS = "40000001"
UNKNOWN_TO_RENIEC = "40000002"
SAT_DEBTS = "40000003"
PAYMENT_DECLINED = "40000004"
SUNARP_REFUSES_TRANSFER = "40000005"
FLAKY = "40000006"
OWNER_OF_ABC123 = "40000007"
SUNARP_ANSWERS_LATER = "40000008"


@dataclass(frozen=True)
class Person:
    given_names: str
    surnames: str
    birth_date: date


# Invented people: no real citizen's data is in this repository.
RENIEC_REGISTRY = {
    SUCCEEDS: Person("ANA LUCÍA", "QUISPE MAMANI", date(1990, 3, 14)),
    SAT_DEBTS: Person("JORGE", "HUAMÁN TORRES", date(1982, 7, 2)),
    PAYMENT_DECLINED: Person("ROSA ELENA", "CHÁVEZ LEÓN", date(1975, 11, 30)),
    SUNARP_REFUSES_TRANSFER: Person("LUIS ALBERTO", "FLORES RAMOS", date(1988, 1, 21)),
    FLAKY: Person("CARMEN", "SALAS YUPANQUI", date(1995, 5, 9)),
    OWNER_OF_ABC123: Person("PEDRO", "MENDOZA CCOPA", date(1969, 9, 17)),
    SUNARP_ANSWERS_LATER: Person("MARÍA ISABEL", "CONDORI APAZA", date(1992, 4, 25)),
}

VEHICLE_OWNERS = {"ABC-123": OWNER_OF_ABC123}

TRANSIENT_FAILURES = 2

# How long SUNARP's registrar takes to decide 40000008's transfer.
SUNARP_DECISION_DELAY = timedelta(seconds=20)
