// One focus stop, read in the page by tests/devportal/browser/keyboard.py: where the focus is, whether
// it followed the previous stop in reading order (`order`: "forward", "back", or null after an arrow
// that a widget answers by moving the focus) and whether it can be seen.
//
// A focus indicator "can be seen" when the focused control has an outline or a box-shadow that it does
// not have unfocused (an identical twin inserted beside it, never focused, tells its resting style) and
// whose colour stands out at 3:1 from the background it is drawn on (WCAG 1.4.11; a yellow ring alone on
// white is 1.6:1).
(order) => {
  const focus = document.activeElement;
  // A control drawn by its label (the code samples' tabs are hidden radio buttons): the label shows it.
  const drawn = focus.labels && focus.labels.length && !focus.getBoundingClientRect().width;
  const el = drawn ? focus.labels[0] : focus;

  const rgba = (text) => (text.match(/rgba?\([^)]*\)/g) || []).map((c) => {
    const p = c.slice(c.indexOf("(") + 1, -1).split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  });
  const channel = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const contrast = (x, y) => {
    const [hi, lo] = [lum(x), lum(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  let behind = { r: 255, g: 255, b: 255, a: 1 };
  for (let node = el.parentElement; node; node = node.parentElement) {
    const c = rgba(getComputedStyle(node).backgroundColor)[0];
    if (c && c.a === 1) { behind = c; break; }
  }

  const look = (style) => ({
    outline: [style.outlineStyle, style.outlineWidth, style.outlineColor].join(" "),
    shadow: style.boxShadow,
  });
  const style = getComputedStyle(el);
  const focused = look(style);
  const twin = el.cloneNode(true);
  twin.classList.remove("focus-visible"); // mkdocs-material marks the focused element with this class
  el.after(twin);
  const rest = look(getComputedStyle(twin));
  twin.remove();
  const seen = (colours) => colours.some((c) => c.a > 0 && contrast(c, behind) >= 3);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
    && focused.outline !== rest.outline && seen(rgba(style.outlineColor));
  const shadow = style.boxShadow !== "none" && focused.shadow !== rest.shadow && seen(rgba(style.boxShadow));

  const previous = window.__keyboardPrevious;
  let ordered = true;
  if (order && previous && previous.isConnected && previous !== focus) {
    const position = previous.compareDocumentPosition(focus);
    const wanted = order === "back" ? Node.DOCUMENT_POSITION_PRECEDING : Node.DOCUMENT_POSITION_FOLLOWING;
    ordered = Boolean(position & wanted);
  }
  window.__keyboardPrevious = focus;

  const box = el.getBoundingClientRect();
  const name = (el.getAttribute("aria-label") || el.textContent || el.value || "").trim().replace(/\s+/g, " ");
  const href = el.getAttribute("href");
  return {
    what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${href ? "[href=" + href + "]" : ""} "${name.slice(0, 50)}"`,
    onPage: focus !== document.body && focus !== document.documentElement && box.width > 0 && box.height > 0,
    ordered,
    visible: outline || shadow,
    styles: `focused ${JSON.stringify(focused)}, unfocused ${JSON.stringify(rest)}, behind ${JSON.stringify(behind)}`,
  };
}
