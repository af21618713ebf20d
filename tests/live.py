"""Live HTTP servers for tests where two real peers must call each other (tool and LMS)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class DeferredApp:
    """A WSGI app set after the server is bound, so the app can know its own port."""

    def __init__(self) -> None:
        self.app: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


class LiveServer:
    def __init__(self, host: str = "127.0.0.1", url_host: str | None = None) -> None:
        self.deferred = DeferredApp()
        self.server: BaseWSGIServer = make_server(host, 0, self.deferred, threaded=True)
        self.url = f"http://{url_host or host}:{self.server.server_port}"
        self._thread: threading.Thread | None = None

    def start(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.deferred.app = app
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": values.get("action", ""),
                    "method": values.get("method", "get").lower(),
                    "fields": {},
                }
            )
        elif tag == "input" and self.forms and values.get("name"):
            kind = values.get("type", "text")
            if kind in {"radio", "checkbox"} and "checked" not in values:
                return
            self.forms[-1]["fields"][values["name"]] = values.get("value", "")


def forms(html: str) -> list[dict[str, Any]]:
    """The forms of a page with their action, method and the values a browser would send."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms
