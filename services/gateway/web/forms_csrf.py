"""Reading a posted form: refused unless its CSRF token matches the visitor's cookie."""

from fastapi import Request

from .console import PageRefused, WebConsole
from .i18n import _
from .security import CSRF_COOKIE, CSRF_FIELD, csrf_matches


async def checked_form(console: WebConsole, request: Request) -> dict[str, str]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not csrf_matches(console.key, request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
        raise PageRefused(
            403,
            _("El formulario no es válido"),
            _(
                "Este formulario no vino de esta página o caducó. Vuelva a la página anterior, "
                "recárguela e inténtelo de nuevo."
            ),
        )
    return fields
