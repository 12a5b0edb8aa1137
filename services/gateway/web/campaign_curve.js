// The campaign panel's curve: the chosen campaign's goal place over its day, the live load beside the
// simulator's day without offers (the counterfactual), the goal's window shaded, and what the window lost
// against the counterfactual so far. Redrawn whenever the campaign table is (every 10 s), and on a language
// switch from the last answer. Times are Japan time; values are walkers per minute (5-minute means).

let curveShown = null;  // the last answer drawn

const CURVE = { width: 640, height: 220, left: 44, right: 22, top: 12, bottom: 28 };

function hhmm(minute) {
  const m = ((minute % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function minuteOf(text) {
  const [h, m] = text.split(":").map(Number);
  return h * 60 + m;
}

// The hours shown: the goal's window and two hours either side, within the day.
function curveRange(c) {
  const a = minuteOf(c.window[0]), b = minuteOf(c.window[1]);
  return [Math.max(0, a - 120), Math.min(1440, b + 120)];
}

function curvePath(c, values, x, y) {
  let d = "";
  let pen = "M";
  values.forEach((v, i) => {
    const minute = c.minutes[i] + c.bin_minutes / 2;
    const [lo, hi] = curveRange(c);
    if (v === null || minute < lo || minute > hi) { pen = "M"; return; }
    d += `${pen}${x(minute).toFixed(1)},${y(v).toFixed(1)}`;
    pen = "L";
  });
  return d;
}

function drawCurve(c) {
  const box = document.getElementById("curve-chart");
  const { width, height, left, right, top, bottom } = CURVE;
  const [lo, hi] = curveRange(c);
  const inRange = (values) => (values || []).filter((v, i) => v !== null && c.minutes[i] >= lo && c.minutes[i] < hi);
  const peak = Math.max(1, ...inRange(c.without_campaign), ...inRange(c.live));
  const x = (m) => left + ((m - lo) / (hi - lo)) * (width - left - right);
  const y = (v) => top + (1 - v / peak) * (height - top - bottom);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "curve-svg",
                            "aria-label": `${t("curve_title")} ${c.place}` });
  root.appendChild(svg("rect", { x: x(minuteOf(c.window[0])).toFixed(1), y: top, class: "curve-window",
                                 width: (x(minuteOf(c.window[1])) - x(minuteOf(c.window[0]))).toFixed(1),
                                 height: height - top - bottom }));
  for (let m = Math.ceil(lo / 60) * 60; m <= hi; m += 60) {
    root.appendChild(svg("line", { x1: x(m), x2: x(m), y1: top, y2: height - bottom, class: "curve-grid" }));
    const label = svg("text", { x: x(m), y: height - 8, "text-anchor": "middle", class: "curve-label" });
    label.textContent = hhmm(m);
    root.appendChild(label);
  }
  for (const v of [0, peak / 2, peak]) {
    const label = svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "curve-label" });
    label.textContent = formatNumber(v, v >= 10 || v === 0 ? 0 : 1);
    root.appendChild(label);
  }
  if (c.without_campaign) {
    root.appendChild(svg("path", { d: curvePath(c, c.without_campaign, x, y), class: "curve-without",
                                   "data-series": "without_campaign" }));
  }
  if (c.live) root.appendChild(svg("path", { d: curvePath(c, c.live, x, y), class: "curve-live", "data-series": "live" }));
  box.replaceChildren(root);
}

function curveSummary(c) {
  if (!c.without_campaign) return t("curve_no_forecast");
  if (!c.window_minutes_observed) return t("curve_no_counts");
  return t("curve_removed")
    .replace("{observed}", formatNumber(c.window_minutes_observed, 0)).replace("{minutes}", formatNumber(c.window_minutes, 0))
    .replace("{without}", formatNumber(c.window_without_campaign, 0)).replace("{live}", formatNumber(c.window_live, 0))
    .replace("{removed}", formatNumber(c.removed_so_far, 0)).replace("{expected}", formatNumber(c.load_removed.expected, 1));
}

function showCurve(c) {
  curveShown = c;
  const box = document.getElementById("campaign-curve");
  drawCurve(c);
  document.getElementById("curve-summary").textContent = curveSummary(c);
  document.getElementById("curve-place").textContent = `${c.place} · ${c.day} · ${c.window[0]}–${c.window[1]}`;
  box.dataset.campaign = c.campaign_id;
  box.dataset.removed = c.removed_so_far === null ? "" : String(c.removed_so_far);
  box.dataset.ready = "yes";
}

// The campaigns in the table, in its order; the choice kept across refreshes while its campaign is listed.
function curveChoices() {
  const select = document.getElementById("curve-campaign");
  const ids = [...document.querySelectorAll("#campaign-rows tr[data-campaign]")].map((tr) => tr.dataset.campaign);
  const keep = ids.includes(select.value) ? select.value : ids[0];
  if ([...select.options].map((o) => o.value).join("\n") !== ids.join("\n")) {
    select.replaceChildren(...ids.map((id) => { const o = document.createElement("option"); o.value = id; o.textContent = id; return o; }));
  }
  if (keep !== undefined) select.value = keep;
  return keep;
}

async function campaignCurve() {
  const box = document.getElementById("campaign-curve");
  const id = isOperator() ? curveChoices() : undefined;
  show(box, id !== undefined);
  if (id === undefined) { curveShown = null; return; }
  const error = document.getElementById("curve-error");
  try {
    showCurve(await authorizedJSON(`/v1/operator/campaigns/${encodeURIComponent(id)}/curve`));
    error.textContent = "";
  } catch (err) {
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver(() => campaignCurve()).observe(document.getElementById("campaign-rows"), { childList: true });
  document.getElementById("curve-campaign").addEventListener("change", campaignCurve);
  onLanguage(() => { if (curveShown) showCurve(curveShown); });
});
