// The live map (operators): chokepoints coloured and widened by their pedestrian level of service (Fruin A-F),
// chargers sized and coloured by the kW in use against their power, ride vehicles and couriers with their next
// stop; drawn over the station-area map (map.js overlays) from GET /v1/operator/live every few seconds, with
// tables beside it. What the gateway says is stale, or everything when the gateway does not answer, is drawn
// as stale (grey, dashed), never as live.
"use strict";

const LIVE_REFRESH_MS = 5000;
const LOS_LEVELS = ["A", "B", "C", "D", "E", "F"];
const LOAD_CLASSES = ["idle", "low", "mid", "high", "down"];

// The one way the operator panels fetch their data: with the dashboard's session (session.js).
function operatorJSON(path) {
  return authorizedJSON(path);
}

let liveData = null;        // the last answer of /v1/operator/live
let liveFailed = false;     // the last refresh failed: what is shown is stale

function tokyoTime(iso, withDate) {
  if (!iso) return "-";
  const locale = currentLanguage === "ja" ? "ja-JP" : "en-GB";
  const opts = { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  if (withDate) Object.assign(opts, { month: currentLanguage === "ja" ? "numeric" : "short", day: "numeric" });
  return new Date(iso).toLocaleString(locale, opts);
}

function ageText(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 90) return t("live_age_s").replace("{n}", formatNumber(seconds, 0));
  if (seconds < 5400) return t("live_age_min").replace("{n}", formatNumber(seconds / 60, 0));
  return t("live_age_h").replace("{n}", formatNumber(seconds / 3600, 1));
}

function isStale(item) { return liveFailed || item.stale; }

function stateText(item, hasData) {
  if (!hasData) return t("live_no_data");
  return `${isStale(item) ? t("live_stale") : t("live_live")} · ${ageText(item.age_s)}`;
}

function placeName(c) {
  return currentLanguage === "ja" && c.name_ja ? c.name_ja : c.name;
}

function chargerLoad(c) {
  if (c.available === false) return "down";
  if (!c.in_use || !c.kw) return "idle";
  const ratio = c.capacity_kw ? c.kw / c.capacity_kw : 0.5;
  return ratio < 0.5 ? "low" : ratio < 0.9 ? "mid" : "high";
}

function kwText(c) {
  const cap = c.capacity_kw === null ? "?" : formatNumber(c.capacity_kw, 0);
  return `${formatNumber(c.kw, 1)} / ${cap} kW`;
}

// --- the map's layers --------------------------------------------------------------------------------------

function title(el, text) {
  const tip = svg("title", {});
  tip.textContent = text;
  el.appendChild(tip);
  return el;
}

function drawChokepointLayer(group, project, data) {
  const live = new Map((liveData ? liveData.chokepoints : []).map((c) => [c.zone, c]));
  for (const f of data.features.filter((x) => x.properties.chokepoint)) {
    const zone = f.properties.chokepoint;
    const c = live.get(zone);
    const level = c && c.los ? c.los : "none";
    const stale = !c || !c.los || isStale(c);
    const d = pathOf(f.geometry.coordinates, project);
    const el = svg("path", { d, class: `los los-${level}${stale ? " stale" : ""}`, "data-zone": zone,
                             "data-los": level, "data-state": stale ? "stale" : "live" });
    const words = c && c.los
      ? `${placeName(c)}: ${t("live_col_los")} ${c.los} · ${formatNumber(c.persons, 0)} ${t("live_per_min")} · ${stateText(c, true)}`
      : `${c ? placeName(c) : zone}: ${t("live_no_data")}`;
    group.appendChild(title(el, words));
    if (c && c.los && !stale) {  // walkers moving: a dash pattern that runs faster on a busier chokepoint
      group.appendChild(svg("path", { d, class: `flow flow-${level}`, "data-zone": zone }));
    }
    if (c && c.anomaly && !stale) {
      const [a, b] = f.geometry.coordinates.map((x) => project.at(x));
      const ring = svg("circle", { cx: ((a[0] + b[0]) / 2).toFixed(1), cy: ((a[1] + b[1]) / 2).toFixed(1), r: 16,
                                   class: `anomaly-ring anomaly-${c.anomaly.kind}`, "data-zone": zone });
      group.appendChild(title(ring, `${placeName(c)}: ${t(`anomaly_${c.anomaly.kind}`)}`));
    }
  }
}

function drawChargerLayer(group, project) {
  const sites = new Map();
  for (const c of liveData ? liveData.chargers : []) {
    if (c.lat === null || c.lon === null) continue;
    if (!sites.has(c.site)) sites.set(c.site, []);
    sites.get(c.site).push(c);
  }
  const gap = 20;
  for (const [site, chargers] of sites) {
    const [x0, y0] = project.at([chargers[0].lon, chargers[0].lat]);
    const perRow = Math.min(4, chargers.length);
    chargers.forEach((c, i) => {
      const x = x0 + ((i % perRow) - (perRow - 1) / 2) * gap;
      const y = y0 + Math.floor(i / perRow) * gap;
      const ratio = c.capacity_kw ? Math.min(c.kw / c.capacity_kw, 1) : 0;
      const load = chargerLoad(c);
      const stale = c.in_use && isStale(c);
      const dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: (4 + 6 * ratio).toFixed(1),
                                  class: `charger load-${load}${stale ? " stale" : ""}`, "data-charger": c.charger,
                                  "data-load": load, "data-state": stale ? "stale" : "live", "data-site": site });
      group.appendChild(title(dot, `${c.charger}: ${kwText(c)} · ${t(`live_load_${load}`)}`
                                    + `${c.in_use ? ` · ${stateText(c, true)}` : ""}`));
    });
  }
}

function drawVehicleLayer(group, project) {
  for (const v of liveData ? liveData.vehicles : []) {
    const stale = isStale(v);
    const [x, y] = project.at([v.lon, v.lat]);
    const cls = `vehicle vehicle-${v.service}${stale ? " stale" : ""}`;
    if (v.next_stop && v.position === "planned") {
      const [nx, ny] = project.at([v.next_stop.lon, v.next_stop.lat]);
      group.appendChild(svg("line", { x1: x.toFixed(1), y1: y.toFixed(1), x2: nx.toFixed(1), y2: ny.toFixed(1),
                                      class: `next-leg${stale ? " stale" : ""}`, "data-vehicle": v.vehicle }));
    }
    const mark = v.service === "mobility"
      ? svg("path", { d: `M${x.toFixed(1)},${(y - 9).toFixed(1)}l8,15h-16z`, class: cls })
      : svg("rect", { x: (x - 6).toFixed(1), y: (y - 6).toFixed(1), width: 12, height: 12, class: cls });
    mark.dataset.vehicle = v.vehicle;
    mark.dataset.state = stale ? "stale" : "live";
    group.appendChild(title(mark, `${v.vehicle}: ${vehicleNextStop(v)} · ${stateText(v, true)}`));
  }
}

// --- the tables and the legend ---------------------------------------------------------------------------

function vehicleNextStop(v) {
  if (!v.next_stop) return t("live_no_stop");
  return `${t(`live_stop_${v.next_stop.kind}`)} ${v.next_stop.ref} · ${tokyoTime(v.next_stop.planned_at)}`;
}

function stateCell(tr, item, hasData) {
  const stale = !hasData || isStale(item);
  tr.dataset.state = stale ? "stale" : "live";
  tr.classList.toggle("stale", stale);
  return tr;
}

function drawLiveTables() {
  const chokes = document.getElementById("live-chokepoint-rows");
  const chargers = document.getElementById("live-charger-rows");
  const vehicles = document.getElementById("live-vehicle-rows");
  chokes.textContent = chargers.textContent = vehicles.textContent = "";
  for (const c of liveData.chokepoints) {
    const has = Boolean(c.los);
    const tr = row([placeName(c), has ? c.los : "-", has ? formatNumber(c.persons, 0) : "-",
                    has && c.flow_p_m_min !== null ? formatNumber(c.flow_p_m_min, 1) : "-",
                    has ? tokyoTime(c.minute_start, true) : "-", stateText(c, has)], [2, 3]);
    tr.dataset.zone = c.zone;
    tr.dataset.los = has ? c.los : "none";
    if (has) tr.cells[1].className = `los-cell los-${c.los}`;
    if (c.anomaly) tr.title = `${t(`anomaly_${c.anomaly.kind}`)} · ${tokyoTime(c.anomaly.minute_start, true)}`;
    chokes.appendChild(stateCell(tr, c, has));
  }
  for (const c of liveData.chargers) {
    const load = chargerLoad(c);
    const status = c.available === false ? `${t("live_load_down")}${c.reason ? ` (${c.reason})` : ""}`
      : c.in_use ? stateText(c, true) : t("live_load_idle");
    const tr = row([c.charger, kwText(c), c.planned_kw === null ? "-" : `${formatNumber(c.planned_kw, 1)} kW`,
                    c.vehicle || "-", c.read_at ? tokyoTime(c.read_at, true) : "-", status], [1, 2]);
    tr.dataset.charger = c.charger;
    tr.dataset.load = load;
    chargers.appendChild(c.in_use ? stateCell(tr, c, true) : tr);
  }
  for (const v of liveData.vehicles) {
    const tr = row([v.vehicle, t(`live_service_${v.service}`), vehicleNextStop(v), tokyoTime(v.at, true),
                    stateText(v, true)], []);
    tr.dataset.vehicle = v.vehicle;
    vehicles.appendChild(stateCell(tr, v, true));
  }
  show(document.getElementById("live-vehicles-empty"), liveData.vehicles.length === 0);
}

function drawLegend() {
  const legend = document.getElementById("live-legend");
  legend.textContent = "";
  const item = (cls, text) => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${cls}`;
    li.append(swatch, document.createTextNode(text));
    legend.appendChild(li);
  };
  for (const level of LOS_LEVELS) item(`los-${level}`, `${level} ${t(`live_los_${level.toLowerCase()}`)}`);
  for (const load of LOAD_CLASSES) item(`charger-swatch load-${load}`, t(`live_load_${load}`));
  item("vehicle-swatch vehicle-mobility", t("live_service_mobility"));
  item("vehicle-swatch vehicle-logistics", t("live_service_logistics"));
  item("stale-swatch", t("live_legend_stale"));
}

function drawLiveStatus() {
  const status = document.getElementById("live-status");
  status.dataset.state = liveFailed ? "stale" : "live";
  status.textContent = liveData
    ? `${liveFailed ? t("live_status_failed") : t("live_status_live")} · ${t("live_updated")} ${tokyoTime(liveData.now)}`
    : t("live_status_failed");
}

function drawLive() {
  if (liveData) drawLiveTables();
  drawLiveStatus();
  setMapOverlay("los", drawChokepointLayer);
  setMapOverlay("chargers", drawChargerLayer);
  setMapOverlay("vehicles", drawVehicleLayer);
}

async function refreshLive() {
  const signedIn = isOperator();
  show(document.getElementById("live-signin"), !signedIn);
  show(document.getElementById("live"), signedIn);
  const error = document.getElementById("live-error");
  if (!signedIn) return;
  try {
    liveData = await operatorJSON("/v1/operator/live");
    liveFailed = false;
    error.textContent = "";
  } catch (err) {
    liveFailed = true;  // keep the last picture, drawn as stale
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
  drawLive();
}

document.addEventListener("DOMContentLoaded", () => {
  drawLegend();
  onLanguage(() => { drawLegend(); if (liveData) drawLive(); });
  onSession(() => refreshLive());
  refreshLive();
  setInterval(refreshLive, LIVE_REFRESH_MS);
});
