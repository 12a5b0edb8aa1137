"""The report's figures and page read cleanly: nothing overlaps at the default size, in a real headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from simulator.figures import PAGE_WIDTH_PX
from simulator.plot_layout import overlapping_texts

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = ["ebina_weekday", "ebina_weekday_event", "ebina_rainy_saturday"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_figures_fit_the_page_and_no_text_collides(report_runs, scenario):
    """Every figure is at most the page's width at its saved size; no two text boxes (labels, titles, ticks,
    legends, colour-bar labels) intersect, none strays over another panel, none is cut off."""
    _, _, layout = report_runs[scenario]
    assert {"flows", "timeseries", "footfall"} <= set(layout)
    for name, fig in layout.items():
        assert fig["width_px"] <= PAGE_WIDTH_PX, f"{name} is {fig['width_px']:.0f} px wide"
        assert fig["overlaps"] == [], name
        assert fig["over_other_axes"] == [], name
        assert fig["cut_off"] == [], name


def test_overlap_check_catches_overlapping_labels():
    """The check itself fails on two labels drawn on top of each other (so passing means something)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.text(0.5, 0.5, "Odakyu gate line")
    ax.text(0.52, 0.5, "Sotetsu gate line")
    assert overlapping_texts(fig)
    plt.close(fig)


def _chromium() -> str:
    found = subprocess.run(["bash", str(REPO / "infra" / "browser.sh"), "path"], capture_output=True, text=True)
    path = found.stdout.strip() or shutil.which("chromium") or ""
    assert path, "no Chromium: `bash infra/browser.sh install` (make test runs it) installs Debian's chromium"
    return path


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1']


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=_chromium(), args=FLAGS,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def _platform_fonts(page, selector: str) -> list[str]:
    """The fonts Chromium actually used to draw the element's text (from the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_report_page_renders_in_chromium(browser, report_runs, scenario, tmp_path):
    """In headless Chromium at 1280 px: every figure loads and shows at its natural size (not shrunk), the page
    does not scroll sideways, the headline cards do not overlap, and Japanese names are drawn with a CJK font."""
    _, path, _ = report_runs[scenario]
    page = browser.new_page()
    page.goto(path.as_uri())
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.naturalWidth, e.clientWidth, e.complete])")
    assert len(images) >= 3
    for natural, shown, complete in images:
        assert complete and natural > 0
        assert shown >= natural - 1, f"figure {natural} px wide is shrunk to {shown} px"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    boxes = page.eval_on_selector_all(".card", "els => els.map(e => { const r = e.getBoundingClientRect(); "
                                               "return [r.left, r.top, r.right, r.bottom]; })")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "headline cards overlap"
    fonts = _platform_fonts(page, "h1")
    assert any("CJK" in f or "IPA" in f for f in fonts), f"Japanese drawn with {fonts}"
    page.screenshot(path=str(tmp_path / f"{scenario}.png"), full_page=True)
    page.close()
