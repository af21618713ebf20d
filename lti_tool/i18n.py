"""The UI languages: French first, English when the launch or the browser asks for it."""

from __future__ import annotations

SUPPORTED_LOCALES = ("fr", "en")
