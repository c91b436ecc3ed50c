"""Operators' Markdown as HTML that is safe to embed in a page as it is.

markdown-it-py's ``js-default`` preset renders CommonMark with raw HTML disabled (a ``<tag>``
in the source comes out as text), then nh3 keeps only an allow-list of tags and attributes,
only ``http``, ``https`` and ``mailto`` links, and gives every link
``rel="nofollow noopener"``. The two layers are independent: either alone keeps scripts,
event handlers and ``javascript:`` URLs out.
"""

from __future__ import annotations

from typing import Final

import nh3
from markdown_it import MarkdownIt

MAX_MARKDOWN_CHARS: Final = 20_000

ALLOWED_TAGS: Final = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES: Final = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
LINK_REL: Final = "nofollow noopener"

_MARKDOWN = MarkdownIt("js-default")


def render_markdown(source: str) -> str:
    """Sanitised HTML of the Markdown ``source`` (no raw HTML, no scripts, safe links)."""
    return nh3.clean(
        _MARKDOWN.render(source),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
