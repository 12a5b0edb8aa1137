// The operators' dashboard: the map, the chokepoints, the services' readiness, the ledger by slot.
"use strict";

function chokepointRows(data) {
  const body = document.getElementById("chokepoint-rows");
  body.textContent = "";
  for (const f of data.features.filter((x) => x.properties.chokepoint)) {
    const p = f.properties;
    const name = currentLanguage === "ja" && p.name_ja ? `${p.name_ja}（${p.name}）` : `${p.name}${p.name_ja ? ` · ${p.name_ja}` : ""}`;
    body.appendChild(row([name, formatNumber(p.width_m, 0), t(`kind_${p.kind}`)], [1]));
  }
}

async function readiness() {
  const list = document.getElementById("status-list");
  list.textContent = "";
  let answer;
  try {
    const response = await fetch("/ready");
    answer = await response.json();
  } catch (err) {
    answer = null;
  }
  const checks = answer && answer.checks ? Object.entries(answer.checks) : [["gateway", null]];
  for (const [name, ok] of checks) {
    const li = document.createElement("li");
    li.dataset.check = name;
    li.className = ok ? "ok" : "down";
    li.textContent = `${name}: ${ok === null ? t("status_unknown") : ok ? t("status_ready") : t("status_not_ready")}`;
    list.appendChild(li);
  }
}

async function ledgerSlots() {
  const token = savedToken("operator");
  const body = document.getElementById("slot-rows");
  body.textContent = "";
  show(document.getElementById("slots"), Boolean(token));
  if (!token) return;
  try {
    for (const s of await api("/v1/operator/ledger/slots", token)) {
      body.appendChild(row([s.slot ? localSlot(s.slot) : "-", formatNumber(s.trades, 0), formatNumber(s.kwh, 3),
                            formatNumber(s.energy_yen, 2)], [1, 2, 3]));
    }
  } catch (err) {
    document.getElementById("slots-error").textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("operator-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken("operator", document.getElementById("operator-token").value.trim());
    ledgerSlots();
  });
  readiness();
  ledgerSlots();
  try {
    const data = await loadMap(document.getElementById("map"));
    chokepointRows(data);
    onLanguage(() => { chokepointRows(data); readiness(); ledgerSlots(); });
    document.getElementById("map-attribution").textContent = data.attribution;
    document.body.dataset.mapReady = "yes";
  } catch (err) {
    document.getElementById("map").textContent = `${t("error_load")}: ${err.message}`;
  }
});
