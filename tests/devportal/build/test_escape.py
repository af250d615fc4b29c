"""Agency text reaches pages escaped: inline, in raw HTML, and as rendered CommonMark."""

from __future__ import annotations

import markdown

from devportal.build.escape import html_text, md_inline, rich_text


def _render(text: str) -> str:
    return markdown.markdown(text, extensions=["tables", "attr_list"])


def test_inline_values_show_as_typed() -> None:
    hostile = "a <b>x</b> [l](javascript:alert(1)) {: onclick=x} *y* | `c`"
    html = _render(f"### {md_inline(hostile)} {{: #anchor }}")
    assert '<h3 id="anchor">' in html
    assert "<b>" not in html and "href" not in html and "onclick=" not in html.replace("{: onclick=x}", "")
    assert "*y*" in html and "`c`" in html


def test_rich_text_renders_markdown_without_raw_html_or_script_links() -> None:
    out = str(rich_text("**bold** <script>x</script> [a](javascript:alert(1)) [b](https://ok.example)"))
    assert "<strong>bold</strong>" in out and "&lt;script&gt;" in out
    assert 'href="javascript' not in out and 'href="https://ok.example"' in out
    assert _render(out).count("<strong>") == 1  # passed through as one HTML block


def test_html_text_escapes_quotes() -> None:
    assert str(html_text('"><x')) == "&quot;&gt;&lt;x"
