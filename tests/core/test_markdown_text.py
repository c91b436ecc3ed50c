"""Operators' Markdown becomes HTML that is safe to embed: hostile input is defused."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from slaledger.core.markdown_text import ALLOWED_TAGS, render_markdown


def test_ordinary_markdown_renders() -> None:
    source = "We are **investigating**.\n\n- API errors\n- `502` from [the CDN](https://cdn.example/status)\n"
    assert render_markdown(source) == (
        "<p>We are <strong>investigating</strong>.</p>\n"
        "<ul>\n<li>API errors</li>\n"
        '<li><code>502</code> from <a href="https://cdn.example/status" '
        'rel="nofollow noopener">the CDN</a></li>\n</ul>\n'
    )


def test_links_get_nofollow_noopener_and_keep_a_title() -> None:
    assert render_markdown('[status](https://example.com/s "Status page")') == (
        '<p><a href="https://example.com/s" title="Status page" rel="nofollow noopener">'
        "status</a></p>\n"
    )
    assert render_markdown("[mail us](mailto:ops@example.com)") == (
        '<p><a href="mailto:ops@example.com" rel="nofollow noopener">mail us</a></p>\n'
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "<script>alert(1)</script>",
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
        ),
        (
            '<img src="x" onerror="alert(1)">',
            '<p>&lt;img src="x" onerror="alert(1)"&gt;</p>\n',
        ),
        (
            '<a href="javascript:alert(1)">click</a>',
            '<p>&lt;a href="javascript:alert(1)"&gt;click&lt;/a&gt;</p>\n',
        ),
        (
            "<div>\n<iframe src=https://evil.example></iframe>\n</div>",
            "<p>&lt;div&gt;\n&lt;iframe src=https://evil.example&gt;&lt;/iframe&gt;\n"
            "&lt;/div&gt;</p>\n",
        ),
        ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>\n"),
        ("[click](JaVaScRiPt:alert(1))", "<p>[click](JaVaScRiPt:alert(1))</p>\n"),
        (
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>\n",
        ),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>\n"),
        ("<!-- hidden --> text", "<p>&lt;!-- hidden --&gt; text</p>\n"),
        ("![pixel](https://tracker.example/p.gif)", "<p></p>\n"),
    ],
)
def test_hostile_input_is_shown_as_text_or_dropped(source: str, expected: str) -> None:
    html = render_markdown(source)
    assert html == expected
    assert_safe(html)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def assert_safe(html: str) -> None:
    """Only allowed elements; no event handlers; links only to http(s) and mailto."""
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.seen:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            if name == "href":
                assert (value or "").split(":", 1)[0] in {"http", "https", "mailto"}, value


def test_a_kitchen_sink_of_attacks_yields_only_safe_elements() -> None:
    source = (
        "# Title <b onmouseover=x>\n\n"
        "[a](javascript&#58;alert(1)) [b](&#106;avascript:alert(1)) "
        "[c](java\tscript:alert(1)) [d]( javascript:alert(1))\n\n"
        "<svg/onload=alert(1)> <style>*{}</style> <form action=x><input></form>\n\n"
        "| h |\n|---|\n| <script>x</script> |\n\n"
        "> quote [ok](https://ok.example)\n"
    )
    html = render_markdown(source)
    assert_safe(html)
    assert "<script" not in html
    assert "<svg" not in html
    assert '<a href="https://ok.example" rel="nofollow noopener">ok</a>' in html


def test_autolinks_with_scripts_are_not_linked() -> None:
    assert render_markdown("<javascript:alert(1)>") == "<p>&lt;javascript:alert(1)&gt;</p>\n"
    assert render_markdown("<https://ok.example>") == (
        '<p><a href="https://ok.example" rel="nofollow noopener">https://ok.example</a></p>\n'
    )


def test_code_blocks_escape_their_content() -> None:
    assert render_markdown("```\n<b onclick=x>hi</b>\n```") == (
        "<pre><code>&lt;b onclick=x&gt;hi&lt;/b&gt;\n</code></pre>\n"
    )
