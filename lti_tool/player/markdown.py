"""Safe Markdown for instructions, proposals and tutorials.

Content is written by people and shown to agents: raw HTML is never passed through (it is
escaped as text), links open outside the LMS frame, and only http(s)/mailto links survive.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup


def _safe_link(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(("https://", "http://", "mailto:"))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.disable("image")  # illustrations come with their alternative text from the content

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


@lru_cache(maxsize=4096)
def render(text: str) -> Markup:
    """Block Markdown (paragraphs, lists, emphasis, code, links) as safe HTML."""
    return Markup(_parser().render(text))  # noqa: S704 - html disabled, links filtered


@lru_cache(maxsize=4096)
def render_inline(text: str) -> Markup:
    """Inline Markdown (a proposal, a label): no paragraphs around it."""
    return Markup(_parser().renderInline(text))  # noqa: S704 - html disabled, links filtered
