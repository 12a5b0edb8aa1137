// Co-owned car: a member books one of their group's cars for a few hours (Japan time) and sees the group's
// answer: the car held, or why not and which cars are free then. Uses the helpers of rides.js (Japan time,
// sending JSON, naming a refused field).
"use strict";

function bookingSummary(b) {
  if (b.state === "accepted") {
    return t("coowned_accepted").replace("{car}", b.car || "—").replace("{period}", b.period || "—");
  }
  if (b.state === "declined") {
    // Which cars are free matters only when the car was taken; the service's English reason says it already
    const clash = (b.reason || "").includes("booked by");
    const free = b.free_cars.length ? t("coowned_free").replace("{cars}", b.free_cars.join(", "))
      : clash && currentLanguage !== "en" ? t("coowned_none_free") : "";
    return `${t("coowned_declined")}: ${b.reason || "—"}. ${free}`.trim();
  }
  return t("coowned_waiting");
}

function bookingRow(b) {
  const car = b.car || b.asked_car || t("coowned_any");
  const tr = row([`${rideTime(b.start)}–${rideTime(b.end)}`, car, t(`coowned_state_${b.state}`), bookingSummary(b)],
                 []);
  tr.dataset.booking = b.booking_id;
  tr.dataset.state = b.state;
  return tr;
}

async function loadBookings() {
  if (!currentSession()) return;
  try {
    const bookings = await authorizedJSON("/v1/app/coowned/bookings");
    document.getElementById("coowned-rows").replaceChildren(...bookings.map(bookingRow));
    show(document.getElementById("no-coowned"), bookings.length === 0);
    document.body.dataset.coownedReady = "yes";
  } catch (err) {
    if (!err.auth) document.getElementById("coowned-message").textContent = `${t("error_load")}: ${err.message}`;
  }
}

async function bookCar(event) {
  event.preventDefault();
  const start = tokyoISO(document.getElementById("coowned-start").value);
  const hours = Number(document.getElementById("coowned-hours").value || 2);
  const distance = document.getElementById("coowned-distance").value;
  const body = {
    group: document.getElementById("coowned-group").value.trim(), start,
    end: new Date(new Date(start).getTime() + hours * 3_600_000).toISOString(),
    booking_id: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now())).replace(/[^A-Za-z0-9_-]/g, "") };
  const car = document.getElementById("coowned-car").value;
  if (car) body.car = car;
  if (distance !== "") body.distance_km = Number(distance);
  const message = document.getElementById("coowned-message");
  const answer = await sendJSON("/v1/app/coowned/bookings", body);
  message.className = answer.ok ? "ok" : "error";
  message.dataset.status = String(answer.status);
  message.textContent = answer.ok ? t("coowned_sent") : fieldRefusal(answer.body, "coowned_field_");
  await loadBookings();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("coowned-start").value = tokyoInputValue(new Date(Date.now() + 60 * 60_000));
  document.getElementById("coowned-form").addEventListener("submit", bookCar);
  onSession(() => loadBookings());
  onLanguage(() => loadBookings());
  loadBookings();
  // The group answers at once; refresh with the rides while signed in.
  setInterval(() => { if (currentSession()) loadBookings(); }, 10000);
});
