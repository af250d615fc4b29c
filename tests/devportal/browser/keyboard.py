"""Driving the portal with the keyboard alone, as someone who cannot use a mouse does: only Tab,
Shift+Tab, Enter, Space, the arrows and typed text. Every stop the focus makes is checked: on a
control of the page, after (or, going back, before) the previous stop in reading order, and with a
focus indicator that can be seen (WCAG 2.1.1, 2.4.3, 2.4.7 and 1.4.11)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# The check of one stop, run in the page (the rules are in its comments).
STOP_JS = (Path(__file__).parent / "focus_stop.js").read_text(encoding="utf-8")


# The last control of every page kind: the service footer's last link.
LAST_CONTROL = "[data-service-footer] li:last-child > a"

IS_JS = """([selector, text]) => {
  const el = document.activeElement;
  return el.matches(selector) && (!text || el.textContent.replace(/\\s+/g, ' ').includes(text));
}"""


class Keyboard:
    """The walk's hands: keys only. `stops` lists every control the focus went through, in order."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops: list[str] = []

    def _stop(self, key: str) -> dict[str, Any]:
        """Press the key; the focus must land visibly on a control (in reading order for Tab)."""
        self.page.keyboard.press(key)
        order = {"Tab": "forward", "Shift+Tab": "back"}.get(key)
        stop: dict[str, Any] = self.page.evaluate(STOP_JS, order)
        where = f"{self.page.url}: {key} to {stop['what']}"
        assert stop["onPage"], f"{where}: the focus left the page's controls"
        assert stop["ordered"], f"{where}: out of reading order (after {self.stops[-1:]})"
        assert stop["visible"], f"{where}: no visible focus ({stop['styles']})"
        self.stops.append(stop["what"])
        return stop

    def focused(self, selector: str, text: str = "") -> bool:
        return bool(self.page.evaluate(IS_JS, [selector, text]))

    def tab(self, selector: str, text: str = "", *, back: bool = False) -> None:
        """One Tab (or Shift+Tab) lands on the control."""
        self.move("Shift+Tab" if back else "Tab", selector, text)

    def move(self, key: str, selector: str, text: str = "") -> None:
        """One key (Tab, Shift+Tab, or an arrow that a widget answers by moving the focus) lands on
        the control."""
        stop = self._stop(key)
        assert self.focused(selector, text), (
            f"{self.page.url}: expected {selector} {text!r}, got {stop['what']}"
        )

    def tab_to(self, selector: str, text: str = "", *, back: bool = False, limit: int = 60) -> int:
        """Tab (or Shift+Tab) through the page, every stop checked, until the control has the focus."""
        for count in range(1, limit + 1):
            self._stop("Shift+Tab" if back else "Tab")
            if self.focused(selector, text):
                return count
        raise AssertionError(
            f"{self.page.url}: {selector} {text!r} not reached in {limit} Tabs: {self.stops[-limit:]}"
        )

    def through_page(self, *, limit: int = 250) -> int:
        """Every control of the page, from the top to the footer's last link, each stop checked."""
        return self.tab_to(LAST_CONTROL, limit=limit)

    def press(self, key: str, *, to: str | re.Pattern[str] | None = None) -> None:
        """Enter, Space or an arrow; `to` is the URL pattern a link or a form leads to."""
        assert key in ("Enter", "Space", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"), key
        if to is None:
            self.page.keyboard.press(key)
            return
        with self.page.expect_navigation(url=to):
            self.page.keyboard.press(key)
        self.page.wait_for_load_state()

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
