"""What the pages call the catalog's things, in Spanish (Quechua through the catalogs).

The catalog speaks English to programmers ("Proof that the passport fee was paid"); a clerk and
a citizen read Spanish. The tables here give each catalog name its page text; a name missing
here reads as the catalog has it, so a new procedure shows up before its texts are written.
"""

from dataclasses import dataclass

from schemas.procedures import catalog

from .i18n import N_, current, gettext


@dataclass(frozen=True)
class FieldText:
    label: str
    hint: str = ""
    error: str = ""  # what to fix, when the value is not valid
    options: tuple[tuple[str, str], ...] = ()  # value -> label, for a choice


DNI = FieldText(
    N_("DNI del ciudadano"),
    N_("Los 8 dígitos del DNI de quien hace el trámite."),
    N_("Escriba los 8 dígitos del DNI, sin puntos ni espacios."),
)

INPUT_FIELDS: dict[str, FieldText] = {
    "reason": FieldText(
        N_("Motivo del duplicado"),
        N_("Por qué necesita un DNI nuevo."),
        N_("Elija el motivo del duplicado."),
        options=(("perdida", N_("Pérdida")), ("robo", N_("Robo")), ("deterioro", N_("Deterioro"))),
    ),
    "plate": FieldText(
        N_("Placa del vehículo"),
        N_("Tres letras o cifras, un guion y tres cifras, por ejemplo ABC-123."),
        N_("Escriba la placa como ABC-123."),
    ),
    "seller_dni": FieldText(
        N_("DNI del vendedor"),
        N_("Los 8 dígitos del DNI de quien vende el vehículo."),
        N_("Escriba los 8 dígitos del DNI del vendedor."),
    ),
    "price_pen": FieldText(
        N_("Precio de venta (soles)"),
        N_("El precio pactado, por ejemplo 25000 o 25000.50."),
        N_("Escriba un precio mayor que cero, con dos decimales como máximo."),
    ),
    "activity_code": FieldText(
        N_("Código de actividad económica (CIIU)"),
        N_("Cuatro cifras, por ejemplo 4711 para venta al por menor en almacenes."),
        N_("Escriba las 4 cifras del código CIIU."),
    ),
}

PROCEDURES = {
    "duplicado-dni": N_("Duplicado de DNI"),
    "pasaporte-electronico": N_("Pasaporte electrónico"),
    "transferencia-vehicular": N_("Transferencia vehicular"),
    "inscripcion-ruc": N_("Inscripción en el RUC"),
}

PROCEDURE_SUMMARIES = {
    "duplicado-dni": N_("Se paga la tasa en el Banco de la Nación y RENIEC emite un DNI nuevo."),
    "pasaporte-electronico": N_(
        "RENIEC confirma la identidad mientras se paga la tasa; Migraciones emite el pasaporte."
    ),
    "transferencia-vehicular": N_(
        "RENIEC, el SAT y SUNARP revisan a la vez; se paga la tasa y SUNARP inscribe la "
        "transferencia."
    ),
    "inscripcion-ruc": N_("RENIEC confirma la identidad y SUNAT inscribe al contribuyente."),
}

LIFE_EVENTS = {
    "identidad": N_("Identidad y viajes"),
    "vehiculo": N_("Comprar o vender un vehículo"),
    "negocio": N_("Empezar un negocio"),
}

ENTITIES = {
    "reniec": "RENIEC",
    "banco-nacion": "Banco de la Nación",
    "sat": "SAT Lima",
    "sunarp": "SUNARP",
    "migraciones": "Migraciones",
    "sunat": "SUNAT",
}

STEPS = {
    ("banco-nacion", "pago-tasa"): N_("Pago de la tasa"),
    ("banco-nacion", "devolucion-tasa"): N_("Devolución de la tasa"),
    ("reniec", "duplicado-dni"): N_("Emisión del DNI duplicado"),
    ("reniec", "verificacion-identidad"): N_("Verificación de identidad"),
    ("sat", "certificado-no-adeudo"): N_("Certificado de no adeudo vehicular"),
    ("sunarp", "certificado-propiedad"): N_("Certificado de propiedad del vehículo"),
    ("sunarp", "inscripcion-transferencia"): N_("Inscripción de la transferencia"),
    ("migraciones", "emision-pasaporte"): N_("Emisión del pasaporte"),
    ("sunat", "inscripcion-ruc"): N_("Inscripción en el RUC"),
}

STEP_SUBJECTS = {
    "identidad-comprador": N_("del comprador"),
    "identidad-vendedor": N_("del vendedor"),
}

DATA_FIELDS = {
    "receipt_number": N_("número del recibo de pago"),
    "amount_pen": N_("monto pagado"),
    "verification_code": N_("constancia de verificación de identidad"),
    "given_names": N_("nombres"),
    "surnames": N_("apellidos"),
    "birth_date": N_("fecha de nacimiento"),
    "certificate_number": N_("número de certificado"),
}

PURPOSES = {
    "Refund of the fee paid": N_("Devolver la tasa pagada"),
    "Proof that the duplicate DNI fee was paid": N_("Acreditar el pago de la tasa del duplicado"),
    "Proof of identity for the passport": N_("Acreditar la identidad para el pasaporte"),
    "Holder's name printed on the passport": N_("Imprimir el nombre del titular en el pasaporte"),
    "Holder's birth date on the passport": N_("Imprimir la fecha de nacimiento en el pasaporte"),
    "Proof that the passport fee was paid": N_("Acreditar el pago de la tasa del pasaporte"),
    "Seller's ownership": N_("Acreditar que el vendedor es el propietario"),
    "No pending vehicle tax, required to register a transfer": N_(
        "Acreditar que no hay deuda de impuesto vehicular, requisito de la inscripción"
    ),
    "Proof that the registry fee was paid": N_("Acreditar el pago de la tasa registral"),
    "Proof of identity for the taxpayer registry": N_(
        "Acreditar la identidad para el registro de contribuyentes"
    ),
    "Taxpayer's registered name": N_("Registrar el nombre del contribuyente"),
}

LEGAL_BASES = {"DL 1211": N_("Decreto Legislativo 1211 (interoperabilidad del Estado)")}


def field_text(name: str) -> FieldText:
    return INPUT_FIELDS.get(name, FieldText(name))


def procedure_title(code: str) -> str:
    if code in PROCEDURES:
        return gettext(PROCEDURES[code])
    # A procedure incorporated by a catalog file: its file's titles, in the page's language.
    proc = catalog().get(code)
    if proc is None:
        return code
    return proc.titles.get(current(), proc.title)


def life_event(code: str) -> str:
    return gettext(LIFE_EVENTS.get(code, code))


def entity_name(entity: str) -> str:
    return ENTITIES.get(entity, entity)


def step_title(entity: str, service: str, step_id: str = "") -> str:
    title = gettext(STEPS.get((entity, service), service))
    subject = STEP_SUBJECTS.get(step_id)
    if not subject:
        return title
    # A format of its own, so that a language may put whose step it is first (Quechua does).
    return gettext("%(step)s %(subject)s") % {"step": title, "subject": gettext(subject)}


def data_field(name: str) -> str:
    return gettext(DATA_FIELDS.get(name, name))


def purpose(text: str) -> str:
    return gettext(PURPOSES.get(text, text))


def legal_basis(text: str) -> str:
    return gettext(LEGAL_BASES.get(text, text))
