// My car: today's charging plan from the charging service (where, when, how much of it local solar), the
// mode (Off / PV / Min+PV / Now / by departure, greenest), and what an override costs. A mode change is sent
// as a new plan; the page then waits for the charging service's new answer.
"use strict";

const CAR_MODES = ["departure", "pv", "minpv", "now", "off"];
let carTimer = null;

function hhmm(iso) {
  return new Date(iso).toLocaleTimeString(currentLanguage === "ja" ? "ja-JP" : "en-GB",
                                          { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });
}

function carCard(car) {
  const card = document.createElement("div");
  card.className = "car";
  card.dataset.vehicle = car.vehicle;
  card.dataset.mode = car.mode;
  const title = document.createElement("h3");
  title.textContent = `${car.vehicle} · ${formatNumber(car.soc_kwh, 1)} / ${formatNumber(car.battery_kwh, 0)} kWh`;
  const label = document.createElement("label");
  label.textContent = t("car_mode");
  const select = document.createElement("select");
  select.className = "car-mode";
  for (const mode of CAR_MODES) {
    const option = document.createElement("option");
    option.value = mode;
    option.textContent = t(`mode_${mode}`);
    select.appendChild(option);
  }
  select.value = car.mode;
  select.addEventListener("change", () => changeMode(car.vehicle, select.value, select));
  label.appendChild(select);
  card.append(title, label);

  const plan = car.plan;
  const status = document.createElement("p");
  status.className = "car-status";
  if (!plan) {
    status.dataset.state = "waiting";
    status.textContent = t("car_waiting");
    card.appendChild(status);
    return card;
  }
  status.dataset.state = plan.status;
  if (plan.status === "infeasible") {
    status.className += " error";
    status.textContent = plan.shortfalls.map((s) => t("car_shortfall").replace("{kwh}", formatNumber(s.missing_kwh, 1))
      .replace("{depart}", hhmm(s.depart)).replace("{later}", s.feasible_depart ? hhmm(s.feasible_depart) : "—"))
      .join(" ");
  } else {
    const kwh = plan.bookings.reduce((sum, b) => sum + Number(b.kwh), 0);
    const green = plan.bookings.reduce((sum, b) => sum + Number(b.renewable_kwh), 0);
    status.textContent = t("car_planned").replace("{kwh}", formatNumber(kwh, 1))
      .replace("{share}", kwh > 0 ? formatNumber((100 * green) / kwh, 0) : "0")
      .replace("{yen}", formatNumber(plan.cost_yen, 0));
  }
  card.appendChild(status);
  if (plan.override_cost_yen !== null && Number(plan.override_cost_yen) !== 0) {
    const extra = document.createElement("p");
    extra.className = "car-override";
    extra.textContent = t("car_override").replace("{yen}", formatNumber(plan.override_cost_yen, 0));
    card.appendChild(extra);
  }
  if (plan.bookings.length) {
    const table = document.createElement("table");
    table.className = "car-bookings";
    const head = document.createElement("tr");
    for (const key of ["col_slot", "car_charger", "col_kwh", "car_solar"]) {
      const th = document.createElement("th");
      th.textContent = t(key);
      head.appendChild(th);
    }
    table.appendChild(head);
    for (const b of plan.bookings) {
      const tr = document.createElement("tr");
      tr.append(cell(localSlot(b.slot)), cell(b.charger), cell(formatNumber(b.kwh, 2), "num"),
                cell(formatNumber(b.renewable_kwh, 2), "num"));
      table.appendChild(tr);
    }
    card.appendChild(table);
  }
  return card;
}

async function loadCars() {
  const session = currentSession();
  show(document.getElementById("car"), Boolean(session));
  if (!session) return;
  try {
    const cars = await authorizedJSON("/v1/app/cars");
    const list = document.getElementById("car-list");
    list.textContent = "";
    for (const car of cars) list.appendChild(carCard(car));
    show(document.getElementById("no-cars"), cars.length === 0);
    document.body.dataset.carsReady = "yes";
  } catch (err) {
    if (!err.auth) document.getElementById("car-message").textContent = `${t("error_load")}: ${err.message}`;
  }
}

async function changeMode(vehicle, mode, select) {
  select.disabled = true;
  const response = await authorized(`/v1/app/cars/${encodeURIComponent(vehicle)}/mode`, {
    method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ mode }) });
  const message = document.getElementById("car-message");
  message.dataset.status = String(response.status);
  const body = await response.json().catch(() => ({}));
  message.className = response.ok ? "ok" : "error";
  message.textContent = response.ok ? t("car_mode_sent") : body.message || `HTTP ${response.status}`;
  select.disabled = false;
  await loadCars();
}

document.addEventListener("DOMContentLoaded", () => {
  onSession(() => loadCars());
  onLanguage(() => loadCars());
  loadCars();
  // The charging service re-plans on its own (new prices, forecasts): refresh the plan every 20 s.
  carTimer = setInterval(() => { if (currentSession()) loadCars(); }, 20000);
});
