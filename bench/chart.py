"""The benchmark chart: one small panel per workload, written as SVG by hand
(no plotting package needed), and as PNG through rsvg-convert (Debian:
librsvg2-bin) when asked for.

In each panel every implementation has a horizontal bar whose length is its
throughput relative to the panel's fastest (for idle memory: its bytes per
connection relative to the largest, shorter is better), labelled with its
value; a proact bar also carries its ratio to its backend's hand-written
floor and to Asio. Each implementation keeps one colour in every panel.
"""

import html
import shutil
import subprocess

# Distinct colours: proact's backends in saturated blue/orange, their loop
# and coroutine layers in lighter shades of the same hue, the floors in
# greys, the peers in green and purple.
COLOURS = {
    "proact-epoll": "#1f5fbf",
    "proact-io_uring": "#e07000",
    "proact-loop-epoll": "#6f9fe6",
    "proact-loop-io_uring": "#f5a04a",
    "proact-coro-epoll": "#9cc3f5",
    "proact-coro-io_uring": "#f8c58a",
    "floor-epoll": "#555555",
    "floor-io_uring": "#9a9a9a",
    "floor-io_uring-tuned": "#c4c4c4",
    "asio": "#2e9e44",
    "asio-ctx-per-thread": "#8fd19e",
    "libuv": "#8e44ad",
}
SPARE = ["#c0392b", "#16a085", "#7f8c8d", "#d35400", "#2c3e50"]

PANEL_W = 460
BAR_H = 15
BAR_GAP = 4
NAME_W = 150
LABEL_W = 175
COLUMNS = 3


def colour(impl, spare_index):
    if impl in COLOURS:
        return COLOURS[impl]
    return SPARE[spare_index % len(SPARE)]


def panel(x, y, title, bars, memory):
    """bars: [(impl, value, label, colour)]; returns (svg parts, height)."""
    parts = [f'<text x="{x}" y="{y + 12}" class="title">{html.escape(title)}</text>']
    top = y + 20
    scale_w = PANEL_W - NAME_W - LABEL_W
    best = max((v for _, v, _, _ in bars if v), default=0)
    for row, (impl, value, label, fill) in enumerate(bars):
        by = top + row * (BAR_H + BAR_GAP)
        parts.append(f'<text x="{x + NAME_W - 6}" y="{by + BAR_H - 3}" class="name">'
                     f'{html.escape(impl)}</text>')
        width = 0 if not best or value is None else max(1.0, scale_w * value / best)
        parts.append(f'<rect x="{x + NAME_W}" y="{by}" width="{width:.1f}" height="{BAR_H}" '
                     f'fill="{fill}"/>')
        parts.append(f'<text x="{x + NAME_W + width + 4:.1f}" y="{by + BAR_H - 3}" class="value">'
                     f'{html.escape(label)}</text>')
    height = 20 + len(bars) * (BAR_H + BAR_GAP) + 14
    return parts, height


def write(panels, path, fmt, title):
    """panels: [(title, memory, [(impl, value, label)])] in display order."""
    spare = {}
    columns = [[] for _ in range(COLUMNS)]
    heights = [40] * COLUMNS
    parts = []
    for ptitle, memory, bars in panels:
        coloured = []
        for impl, value, label in bars:
            if impl not in COLOURS and impl not in spare:
                spare[impl] = len(spare)
            coloured.append((impl, value, label, colour(impl, spare.get(impl, 0))))
        col = heights.index(min(heights))  # the shortest column next
        x = 10 + col * (PANEL_W + 20)
        svg, h = panel(x, heights[col], ptitle, coloured, memory)
        parts += svg
        heights[col] += h
    width = 20 + COLUMNS * (PANEL_W + 20)
    height = max(heights) + 10
    doc = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">',
        "<style>.title{font-size:12px;font-weight:bold}.name{font-size:10px;text-anchor:end}"
        ".value{font-size:10px}.head{font-size:13px}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" class="head">{html.escape(title)}</text>',
    ] + parts + ["</svg>"]
    svg_text = "\n".join(doc) + "\n"
    if fmt == "svg":
        with open(path, "w", encoding="utf-8") as f:
            f.write(svg_text)
        return True
    converter = shutil.which("rsvg-convert")
    if converter is None:
        return False
    r = subprocess.run([converter, "-f", "png", "-o", path], input=svg_text.encode(),
                       capture_output=True)
    return r.returncode == 0
