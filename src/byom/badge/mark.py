"""The BYOM mark and the badge set, drawn from one description (R6.1).

The mark is two overlapping squares: the app and the model the user brings. Every file in the
badge set is derived from :data:`APP_SQUARE` and :data:`MODEL_SQUARE`; the overlap is computed,
not drawn by hand, so the seven variants cannot drift apart.

The output is self-contained SVG: no links, no scripts, no stylesheets and no web fonts. The
wordmark is ``<text>`` set in locally installed fonts, ending in the generic ``sans-serif``
family, so nothing is ever fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal
from xml.sax.saxutils import quoteattr

INK: Final = "#1B2028"
"""The app's colour: a dark slate."""
ACCENT: Final = "#4D6483"
"""The model's colour: a muted blue slate."""
PAPER: Final = "#E8EBF0"
"""The light ground of the light badge; the app's colour on dark grounds."""
ACCENT_ON_DARK: Final = "#6E83A0"
"""The model's colour on dark grounds (the accent lifted so it reads on ink)."""

MARK_SIZE: Final = 24
FONT_STACK: Final = "'Helvetica Neue', system-ui, sans-serif"
"""Local fonts only, ending in a generic family: the SVG never loads a font."""


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle in the mark's 24×24 coordinate space."""

    x: float
    y: float
    width: float
    height: float

    def intersection(self, other: Rect) -> Rect | None:
        """Return the overlapping area of two rectangles, or ``None`` if they do not overlap."""
        left = max(self.x, other.x)
        top = max(self.y, other.y)
        right = min(self.x + self.width, other.x + other.width)
        bottom = min(self.y + self.height, other.y + other.height)
        if right <= left or bottom <= top:
            return None
        return Rect(left, top, right - left, bottom - top)


APP_SQUARE: Final = Rect(2, 8, 12, 12)
"""The app: the lower-left square."""
MODEL_SQUARE: Final = Rect(10, 4, 12, 12)
"""The model the user brings: the upper-right square, laid over the app."""


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours for one rendering of the mark. ``overlap=None`` leaves the overlap undrawn."""

    app: str
    model: str
    overlap: str | None
    app_opacity: float | None = None


LIGHT_MARK: Final = Palette(app=INK, model=ACCENT, overlap=INK)
DARK_MARK: Final = Palette(app=PAPER, model=ACCENT_ON_DARK, overlap=ACCENT)
# One colour cannot show a deepened overlap; the app square is drawn at half strength instead,
# so the two squares still read as two.
CURRENT_COLOR_MARK: Final = Palette(
    app="currentColor", model="currentColor", overlap=None, app_opacity=0.5
)


@dataclass(frozen=True, slots=True)
class Theme:
    """Colours of a framed badge."""

    mark: Palette
    ground: str
    edge: str
    edge_opacity: float
    wordmark: str
    tagline: str


LIGHT: Final = Theme(
    LIGHT_MARK, ground=PAPER, edge=INK, edge_opacity=0.22, wordmark=INK, tagline="#6B7488"
)
DARK: Final = Theme(
    DARK_MARK, ground=INK, edge=PAPER, edge_opacity=0.18, wordmark=PAPER, tagline="#9AA3B5"
)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things sit on a framed badge of one size."""

    width: int
    height: int
    mark_x: float
    mark_y: float
    mark_scale: float
    word_x: float
    word_y: float
    word_size: float
    word_spacing: float
    tagline: tuple[float, float, float] | None  # x, y, font size; None: no tagline


STANDARD: Final = Layout(
    width=168, height=44, mark_x=14, mark_y=10, mark_scale=1,
    word_x=52, word_y=24, word_size=18, word_spacing=-0.6, tagline=(53, 36, 9.5),
)  # fmt: skip
SMALL: Final = Layout(
    width=96, height=26, mark_x=8, mark_y=5, mark_scale=0.67,
    word_x=33, word_y=18, word_size=14, word_spacing=-0.5, tagline=None,
)  # fmt: skip

WORDMARK: Final = "byom"
TAGLINE: Final = "bring your own model"
LABEL: Final = "BYOM badge: bring your own model"


def _num(value: float) -> str:
    """Format a coordinate without a needless ``.0`` (``12`` not ``12.0``)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _attrs(**attrs: str | float | None) -> str:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        shown = _num(value) if isinstance(value, int | float) else value
        parts.append(f"{name.rstrip('_').replace('_', '-')}={quoteattr(shown)}")
    return " ".join(parts)


def mark_shapes(palette: Palette) -> list[str]:
    """The mark as SVG ``<rect>`` elements in its 24×24 space, back to front."""
    shapes = []
    for rect, fill, opacity in (
        (APP_SQUARE, palette.app, palette.app_opacity),
        (MODEL_SQUARE, palette.model, None),
    ):
        shapes.append(_rect(rect, fill, opacity))
    overlap = APP_SQUARE.intersection(MODEL_SQUARE)
    if palette.overlap is not None and overlap is not None:
        shapes.append(_rect(overlap, palette.overlap, None))
    return shapes


def _rect(rect: Rect, fill: str, opacity: float | None) -> str:
    return (
        "<rect "
        + _attrs(
            x=rect.x, y=rect.y, width=rect.width, height=rect.height, fill=fill, opacity=opacity
        )
        + "/>"
    )


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        "<svg "
        + _attrs(
            xmlns="http://www.w3.org/2000/svg",
            width=width,
            height=height,
            viewBox=f"0 0 {width} {height}",
            role="img",
            aria_label=label,
        )
        + ">"
    )


def mark_svg(palette: Palette) -> str:
    """A bare 24×24 mark."""
    lines = [
        _svg_open(MARK_SIZE, MARK_SIZE, "BYOM"),
        "  <title>BYOM mark</title>",
        "  " + "".join(mark_shapes(palette)),
        "</svg>",
        "",
    ]
    return "\n".join(lines)


def _text(
    x: float,
    y: float,
    size: float,
    weight: int,
    fill: str,
    content: str,
    spacing: float | None = None,
) -> str:
    attrs = _attrs(
        x=x,
        y=y,
        font_family=FONT_STACK,
        font_size=size,
        font_weight=weight,
        letter_spacing=spacing,
        fill=fill,
        text_rendering="geometricPrecision",
    )
    return f"<text {attrs}>{content}</text>"


def badge_svg(theme: Theme, layout: Layout, title: str) -> str:
    """A framed badge: the mark, the wordmark and, on the standard size, the tagline."""
    frame = Rect(0.5, 0.5, layout.width - 1, layout.height - 1)
    mark = "".join(mark_shapes(theme.mark))
    place = (
        f"translate({_num(layout.mark_x)},{_num(layout.mark_y)}) scale({_num(layout.mark_scale)})"
    )
    lines = [
        _svg_open(layout.width, layout.height, LABEL),
        f"  <title>{title}</title>",
        "  <rect "
        + _attrs(
            x=frame.x,
            y=frame.y,
            width=frame.width,
            height=frame.height,
            fill=theme.ground,
            stroke=theme.edge,
            stroke_opacity=theme.edge_opacity,
        )
        + "/>",
        f"  <g transform={quoteattr(place)}>{mark}</g>",
        "  "
        + _text(
            layout.word_x,
            layout.word_y,
            layout.word_size,
            800,
            theme.wordmark,
            WORDMARK,
            layout.word_spacing,
        ),
    ]
    if layout.tagline is not None:
        x, y, size = layout.tagline
        lines.append("  " + _text(x, y, size, 500, theme.tagline, TAGLINE))
    lines += ["</svg>", ""]
    return "\n".join(lines)


Variant = Literal["light", "dark", "light-small", "dark-small"]
BADGE_VARIANTS: Final[tuple[Variant, ...]] = ("light", "dark", "light-small", "dark-small")


@dataclass(frozen=True, slots=True)
class BadgeFile:
    """One file of the badge set. ``variant`` is set for the four framed badges."""

    filename: str
    width: int
    height: int
    svg: str
    variant: Variant | None = None


def _badge(variant: Variant) -> BadgeFile:
    dark = variant.startswith("dark")
    small = variant.endswith("small")
    theme = DARK if dark else LIGHT
    layout = SMALL if small else STANDARD
    title = "BYOM badge" + (", small" if small else "") + (", dark" if dark else ", light")
    return BadgeFile(
        filename=f"byom-badge-{variant}.svg",
        width=layout.width,
        height=layout.height,
        svg=badge_svg(theme, layout, title),
        variant=variant,
    )


def badge_set() -> tuple[BadgeFile, ...]:
    """All seven files: four framed badges and three bare marks, in a stable order.

    The file names are the canonical ones, so self-hosted copies sit at the same paths as the
    published assets.
    """
    marks = (
        ("byom-mark.svg", LIGHT_MARK),
        ("byom-mark-dark.svg", DARK_MARK),
        ("byom-mark-currentColor.svg", CURRENT_COLOR_MARK),
    )
    return tuple(_badge(v) for v in BADGE_VARIANTS) + tuple(
        BadgeFile(name, MARK_SIZE, MARK_SIZE, mark_svg(palette)) for name, palette in marks
    )
