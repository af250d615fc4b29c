"""The search dialog's open-state rules, taken from the theme's stylesheet and re-aimed at the toolbar
inside the service header (devportal/build/search_css.py)."""

from __future__ import annotations

from pathlib import Path

from devportal.build.search_css import OPEN, search_open_css

AIMED = "[data-md-toggle=search]:checked~[data-service-header] .md-header"


def test_the_installed_themes_results_and_their_media_queries_are_re_aimed() -> None:
    css = search_open_css()
    # The results' box, which stayed at zero height and transparent in the service header.
    assert (
        f"{AIMED} .md-search__output{{" in css and f"{AIMED} .md-search__scrollwrap{{max-height:75vh}}" in css
    )
    assert "@media screen and (min-width:60em){" in css
    assert OPEN not in css  # every copied selector goes through the service header
    rules = [line for line in css.splitlines()[1:] if line]
    assert len(rules) >= 10 and all(AIMED in rule for rule in rules), rules


def test_only_the_open_selectors_of_a_list_are_kept_and_strings_comments_and_at_rules_are_skipped(
    tmp_path: Path,
) -> None:
    sheet = tmp_path / "main.css"
    sheet.write_text(
        '@charset "UTF-8";/* a { } comment */'
        '.a:after{content:"{"}'
        f".b,{OPEN} .c:not(.d,.e){{opacity:1}}"
        f"@media screen and (min-width:60em){{.f{{color:red}}{OPEN} .g{{width:1px}}}}"
        "@media print{.h{display:none}}"
        f"@keyframes k{{0%{{opacity:0}}100%{{opacity:1}}}}{OPEN} .i::placeholder{{color:#0000}}",
        encoding="utf-8",
    )
    rules = search_open_css(sheet).splitlines()[1:]
    assert rules == [
        f"{AIMED} .c:not(.d,.e){{opacity:1}}",
        f"@media screen and (min-width:60em){{{AIMED} .g{{width:1px}}}}",
        f"{AIMED} .i::placeholder{{color:#0000}}",
    ]
