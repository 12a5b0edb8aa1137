// My trips, rides and deliveries: tell the city when one will pass a busy place (so campaigns can offer a
// reward for another time or exit), ask for a ride between two places around the station and see the
// dispatcher's answer (pick-up window and fare, or why not and the nearest alternative), and follow the
// parcels one sent. Times are entered and shown in Japan time, whatever this device's clock zone.
"use strict";

let ridePlaces = [];
let chokepointPlaces = [];

function tokyoISO(localValue) { return `${localValue}:00+09:00`; }  // "2026-12-02T18:30" as Japan time

function tokyoInputValue(date) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

function rideTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(currentLanguage === "ja" ? "ja-JP" : "en-GB", { timeZone: "Asia/Tokyo",
    month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function placeLabel(p) { return currentLanguage === "ja" ? p.name_ja : p.name_en; }

function nearestPlace(lat, lon) {
  let best = null, bestD = Infinity;
  for (const p of ridePlaces) {
    const d = (p.lat - lat) ** 2 + (p.lon - lon) ** 2;
    if (d < bestD) { best = p; bestD = d; }
  }
  return best && bestD < 1e-6 ? placeLabel(best) : `${lat.toFixed(4)}, ${lon.toFixed(4)}`;
}

function fillSelect(select, items, label) {
  const keep = select.value;
  select.replaceChildren(...items.map((item) => {
    const option = document.createElement("option");
    option.value = item.key;
    option.textContent = label(item);
    return option;
  }));
  if (keep && items.some((i) => i.key === keep)) select.value = keep;
}

function drawPlaceChoices() {
  fillSelect(document.getElementById("ride-origin"), ridePlaces, placeLabel);
  fillSelect(document.getElementById("ride-destination"), ridePlaces, placeLabel);
  fillSelect(document.getElementById("trip-place"), chokepointPlaces,
             (c) => (currentLanguage === "ja" && c.name_ja ? c.name_ja : c.name));
}

function rideSummary(r) {
  if (r.state === "accepted") {
    return t("ride_accepted").replace("{vehicle}", r.vehicle || "—").replace("{from}", rideTime(r.pickup_from))
      .replace("{until}", rideTime(r.pickup_until)).replace("{fare}", formatNumber(r.fare_yen || 0, 0));
  }
  if (r.state === "declined") {
    const alt = r.alternative ? ` ${t("ride_alternative").replace("{alt}", r.alternative)}` : "";
    return `${t("ride_declined")}: ${r.reason || "—"}.${alt}`;
  }
  if (r.state === "completed") {
    return t("ride_completed").replace("{at}", rideTime(r.dropped_off_at)).replace("{fare}", formatNumber(r.fare_yen || 0, 0));
  }
  return t("ride_waiting");
}

function rideRow(r) {
  const tr = row([rideTime(r.earliest_pickup), `${nearestPlace(...r.origin)} → ${nearestPlace(...r.destination)}`,
                  t(`ride_state_${r.state}`), rideSummary(r)], []);
  tr.dataset.request = r.request_id;
  tr.dataset.state = r.state;
  return tr;
}

function deliveryRow(p) {
  const what = p.state === "delivered"
    ? t("parcel_delivered").replace("{at}", rideTime(p.delivered_at)).replace("{fee}", formatNumber(p.fee_yen || 0, 0))
    : p.state === "assigned" ? t("parcel_assigned").replace("{courier}", p.courier).replace("{at}", rideTime(p.planned_at))
      : p.reason || t("ride_waiting");
  const tr = row([p.parcel_id, `${rideTime(p.deliver_from)}–${rideTime(p.deliver_until)}`, t(`parcel_state_${p.state}`),
                  what], []);
  tr.dataset.parcel = p.parcel_id;
  tr.dataset.state = p.state;
  return tr;
}

async function loadRides() {
  const session = currentSession();
  show(document.getElementById("rides"), Boolean(session));
  if (!session) return;
  try {
    const [rides, parcels] = await Promise.all([authorizedJSON("/v1/app/rides"), authorizedJSON("/v1/app/deliveries")]);
    document.getElementById("ride-rows").replaceChildren(...rides.map(rideRow));
    show(document.getElementById("no-rides"), rides.length === 0);
    document.getElementById("parcel-rows").replaceChildren(...parcels.map(deliveryRow));
    show(document.getElementById("no-parcels"), parcels.length === 0);
    document.body.dataset.ridesReady = "yes";
  } catch (err) {
    if (!err.auth) document.getElementById("ride-message").textContent = `${t("error_load")}: ${err.message}`;
  }
}

// A 4xx names the field it refuses: say which, in the page's words, with the gateway's rule.
function fieldRefusal(body, prefix) {
  const first = (body.detail || [])[0];
  if (!first) return body.message || "";
  const field = String((first.loc || []).slice(-1)[0] || "");
  return `${t(`${prefix}${field}`) !== `${prefix}${field}` ? t(`${prefix}${field}`) : field}: ${first.msg || body.message}`;
}

async function sendJSON(path, body) {
  const response = await authorized(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                            body: JSON.stringify(body) });
  return { status: response.status, ok: response.ok, body: await response.json().catch(() => ({})) };
}

async function askForRide(event) {
  event.preventDefault();
  const pickup = document.getElementById("ride-pickup").value;
  const minutes = Number(document.getElementById("ride-within").value || 60);
  const arrive = new Date(new Date(tokyoISO(pickup)).getTime() + minutes * 60_000);
  const message = document.getElementById("ride-message");
  const answer = await sendJSON("/v1/app/rides", {
    origin: document.getElementById("ride-origin").value, destination: document.getElementById("ride-destination").value,
    earliest_pickup: tokyoISO(pickup), latest_arrival: arrive.toISOString(),
    party: Number(document.getElementById("ride-party").value || 1),
    request_id: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now())).replace(/[^A-Za-z0-9_-]/g, "") });
  message.className = answer.ok ? "ok" : "error";
  message.dataset.status = String(answer.status);
  message.textContent = answer.ok ? t("ride_sent") : fieldRefusal(answer.body, "ride_field_");
  await loadRides();
}

async function declareTrip(event) {
  event.preventDefault();
  const message = document.getElementById("trip-message");
  const answer = await sendJSON("/v1/app/trips", {
    place: document.getElementById("trip-place").value, at: tokyoISO(document.getElementById("trip-at").value),
    segment: document.getElementById("trip-segment").value });
  message.className = answer.ok ? "ok" : "error";
  message.dataset.status = String(answer.status);
  message.textContent = answer.ok ? t("trip_sent") : fieldRefusal(answer.body, "trip_field_");
}

document.addEventListener("DOMContentLoaded", async () => {
  const soon = tokyoInputValue(new Date(Date.now() + 30 * 60_000));
  document.getElementById("ride-pickup").value = soon;
  document.getElementById("trip-at").value = soon;
  document.getElementById("ride-form").addEventListener("submit", askForRide);
  document.getElementById("trip-form").addEventListener("submit", declareTrip);
  onSession(() => loadRides());
  onLanguage(() => { drawPlaceChoices(); loadRides(); });
  try {
    const [places, map] = await Promise.all([fetch("/v1/app/rides/places").then((r) => r.json()),
                                             fetch("/web/map.geojson").then((r) => r.json())]);
    ridePlaces = places;
    chokepointPlaces = map.features.filter((f) => f.properties.chokepoint)
      .map((f) => ({ key: f.properties.chokepoint, name: f.properties.name, name_ja: f.properties.name_ja }));
    drawPlaceChoices();
    document.getElementById("ride-destination").selectedIndex = Math.min(1, ridePlaces.length - 1);
  } catch (err) {
    document.getElementById("ride-message").textContent = `${t("error_load")}: ${err.message}`;
  }
  loadRides();
  // The dispatcher answers within seconds and re-plans later: refresh every 10 s while signed in.
  setInterval(() => { if (currentSession()) loadRides(); }, 10000);
});
