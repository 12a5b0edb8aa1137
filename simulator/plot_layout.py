"""Keeping plot text readable: labels that push each other apart, and a check that no text boxes collide.

Both work on the text extents matplotlib computes for the figure at its saved size, so what the check
passes is what a reader sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

PAD_PX = 1.0


def _hidden_tick_labels(fig: Figure) -> set[int]:
    """Tick labels matplotlib keeps but does not draw, because their tick lies outside the view."""
    hidden: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9
            for tick_set, locs in ((axis.get_major_ticks(), axis.get_majorticklocs()),
                                   (axis.get_minor_ticks(), axis.get_minorticklocs())):
                for tick, loc in zip(tick_set, locs, strict=False):
                    if not lo - span <= loc <= hi + span:
                        hidden.update({id(tick.label1), id(tick.label2)})
    return hidden


def _visible_texts(fig: Figure) -> list[Text]:
    """Texts a reader sees: visible, not empty, and (for tick labels) inside the view."""
    hidden = _hidden_tick_labels(fig)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    return [t for t in texts if t.get_alpha() != 0]


def _bbox(text: Text, renderer) -> Bbox:
    """The box of the characters (for an annotation without its arrow), a pixel inside its edge."""
    return Text.get_window_extent(text, renderer).padded(-PAD_PX)


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of visible texts whose boxes intersect (titles, labels, tick labels, legends, annotations)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    boxes = [(t, _bbox(t, renderer)) for t in _visible_texts(fig)]
    boxes = [(t, b) for t, b in boxes if b.width > 0 and b.height > 0]
    return [(a.get_text(), b.get_text()) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]


def texts_over_other_axes(fig: Figure) -> list[tuple[str, str]]:
    """Texts that belong to one axes (or colour bar) and stray into another one's plotting area."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    out = []
    for t in _visible_texts(fig):
        owner = t.axes
        if owner is None:
            continue
        box = _bbox(t, renderer)
        for ax in fig.axes:
            if ax is owner or not ax.get_visible():
                continue
            if box.overlaps(ax.get_window_extent(renderer)):
                out.append((t.get_text(), ax.get_label() or ax.get_title() or "axes"))
    return out


def texts_outside_figure(fig: Figure) -> list[str]:
    """Texts cut off by the figure's edge."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    return [t.get_text() for t in _visible_texts(fig)
            if not frame.containsx(_bbox(t, renderer).x0) or not frame.containsx(_bbox(t, renderer).x1)
            or not frame.containsy(_bbox(t, renderer).y0) or not frame.containsy(_bbox(t, renderer).y1)]


def repel(ax: Axes, labels: list[Annotation], obstacles: Sequence[Text] = (), steps: int = 200,
          gap_px: float = 3.0) -> None:
    """Move annotation texts apart (in screen space) until none overlaps another or an obstacle.

    Each label is pushed away from the boxes it touches; the points they annotate stay where they are.
    """
    fig = ax.figure
    for label in labels:
        label.set_in_layout(False)  # the layout is settled once; the labels then move inside it
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    fixed = [Text.get_window_extent(o, renderer).padded(gap_px) for o in obstacles]
    axes_box = ax.get_window_extent(renderer)
    for _ in range(steps):
        boxes = [Text.get_window_extent(a, renderer).padded(gap_px) for a in labels]
        moves = np.zeros((len(labels), 2))
        for i, j in combinations(range(len(labels)), 2):
            if boxes[i].overlaps(boxes[j]):
                push = _push(boxes[i], boxes[j])
                moves[i] -= push / 2
                moves[j] += push / 2
        for i, box in enumerate(boxes):
            for other in fixed:
                if box.overlaps(other):
                    moves[i] += _push(other, box)
            moves[i] += _inside(box, axes_box)
        if not moves.any():
            return
        for label, (dx, dy) in zip(labels, moves, strict=True):
            x, y = ax.transData.transform(label.xyann)
            label.xyann = tuple(ax.transData.inverted().transform((x + dx, y + dy)))


def _push(a: Bbox, b: Bbox) -> np.ndarray:
    """How far to move box b so it clears box a, along the shorter axis, at least one pixel."""
    ca, cb = np.array([a.x0 + a.x1, a.y0 + a.y1]) / 2, np.array([b.x0 + b.x1, b.y0 + b.y1]) / 2
    dx = min(a.x1, b.x1) - max(a.x0, b.x0)
    dy = min(a.y1, b.y1) - max(a.y0, b.y0)
    sign = np.where(cb - ca >= 0, 1.0, -1.0)
    if dx < dy:
        return np.array([sign[0] * (dx + 1.0), 0.0])
    return np.array([0.0, sign[1] * (dy + 1.0)])


def _inside(box: Bbox, frame: Bbox) -> np.ndarray:
    """The move that brings box back inside frame (zero when it is inside)."""
    dx = max(frame.x0 - box.x0, 0.0) - max(box.x1 - frame.x1, 0.0)
    dy = max(frame.y0 - box.y0, 0.0) - max(box.y1 - frame.y1, 0.0)
    return np.array([dx, dy])
