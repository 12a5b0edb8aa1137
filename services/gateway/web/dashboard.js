// The operators' dashboard: the map, the chokepoints, the services' readiness, the ledger by slot, and the
// incentive campaigns' budget planned against spent (expected and realised), offers and load removed.
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

function campaignGoal(c) {
  const g = c.goal;
  return `${t(`goal_${g.kind}`)} ${g.place} ${g.window[0]}–${g.window[1]} (${formatNumber(100 * g.share, 0)} %)`;
}

async function campaignPanel() {
  const token = savedToken("operator");
  const body = document.getElementById("campaign-rows");
  const error = document.getElementById("campaigns-error");
  body.textContent = "";
  error.textContent = "";
  show(document.getElementById("campaigns"), Boolean(token));
  show(document.getElementById("campaigns-empty"), false);
  if (!token) return;
  try {
    const campaigns = await api("/v1/operator/campaigns", token);
    show(document.getElementById("campaigns-empty"), campaigns.length === 0);
    for (const c of campaigns) {
      const b = c.budget, o = c.offers, l = c.load_removed;
      const tr = row([
        `${c.campaign_id} · ${campaignGoal(c)}${c.stopped ? ` · ${t("campaign_stopped")}` : ""}`,
        formatNumber(b.planned_yen, 0), formatNumber(b.expected_committed_yen, 0), formatNumber(b.realised_yen, 0),
        `${formatNumber(100 * b.realised_share_of_planned, 1)} %`,
        formatNumber(o.sent, 0), formatNumber(o.accepted, 0), formatNumber(o.redeemed, 0),
        formatNumber(l.expected, 1), formatNumber(l.accepted, 1),
        c.ledger ? `${formatNumber(c.ledger.balance_yen, 0)} / ${formatNumber(c.ledger.funded_yen, 0)}` : t("campaign_not_on_ledger"),
      ], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      tr.dataset.campaign = c.campaign_id;
      tr.title = `${t("col_guard")}: ${formatNumber(b.guard_yen, 0)} · ${t("col_expected_planned")}: ${formatNumber(b.expected_planned_yen, 0)}`;
      body.appendChild(tr);
    }
  } catch (err) {
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

// The city's eye: the latest anomalies in crowd counts and shops' days, each with its evidence.
async function anomalyPanel() {
  const token = savedToken("operator");
  const body = document.getElementById("anomaly-rows");
  const error = document.getElementById("anomalies-error");
  body.textContent = "";
  error.textContent = "";
  show(document.getElementById("anomalies"), Boolean(token));
  show(document.getElementById("anomalies-empty"), false);
  if (!token) return;
  try {
    const rows = await api("/v1/operator/anomalies?limit=50", token);
    show(document.getElementById("anomalies-empty"), rows.length === 0);
    for (const a of rows) {
      const when = a.source === "crowd" ? localSlot(a.at) : a.at;
      const tr = row([when, t(`source_${a.source}`), t(`anomaly_${a.kind}`), a.place, a.evidence], []);
      tr.dataset.kind = a.kind;
      tr.dataset.source = a.source;
      body.appendChild(tr);
    }
  } catch (err) {
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("operator-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken("operator", document.getElementById("operator-token").value.trim());
    ledgerSlots();
    campaignPanel();
    anomalyPanel();
  });
  readiness();
  ledgerSlots();
  campaignPanel();
  anomalyPanel();
  onLanguage(() => { campaignPanel(); anomalyPanel(); });
  setInterval(() => anomalyPanel(), 30000);
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
