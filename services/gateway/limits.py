"""A ceiling on request bodies, checked on the declared length and on the bytes actually sent.

The body is read here, up to the limit, before any route sees it; a client that lies about
`Content-Length` or streams a chunked body is cut off as soon as it passes the limit.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import RequestTooLarge, problem_response

MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the app will see the disconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the server itself rejects a malformed length
        return 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = RequestTooLarge(
            f"The request body is larger than {self.max_bytes // 1024} KiB; "
            "a case submission is a few hundred bytes."
        ).problem(scope.get("path", ""))

        await problem_response(problem, {"Connection": "close"})(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
