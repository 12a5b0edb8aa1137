"""A font with Japanese glyphs for the plots, when the machine has one (``infra/browser.sh fonts`` installs it).

Without one, plots keep to English names rather than draw boxes where the Japanese characters would be.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager

log = logging.getLogger(__name__)
CJK_FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)
CJK_FAMILIES = ("Noto Sans CJK JP", "IPAGothic", "IPAexGothic", "TakaoGothic")


@cache
def cjk_family() -> str | None:
    """The family name of a Japanese-capable font matplotlib can use, registering its file if needed."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for path in CJK_FONT_FILES:
        if path.exists():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    log.info("no font with Japanese glyphs found; plots show English names only")
    return None


def use_japanese() -> bool:
    """Set matplotlib to fall back to the Japanese font for glyphs DejaVu lacks; False when there is none."""
    family = cjk_family()
    if family is None:
        return False
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", family]
    return True
