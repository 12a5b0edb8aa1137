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

// An operator panel: hidden without the operator's token; rows drawn from one operator route, an empty note
// when there are none, the error (or a refused token) said in the panel.
// Elements: #<box> (the table's frame), #<box>-empty, #<box>-error, and the table body #<rows>.
async function operatorPanel(box, rows, path, draw) {
  const token = savedToken("operator");
  const body = document.getElementById(rows);
  const error = document.getElementById(`${box}-error`);
  body.textContent = "";
  error.textContent = "";
  show(document.getElementById(box), Boolean(token));
  show(document.getElementById(`${box}-empty`), false);
  if (!token) return;
  try {
    const items = await api(path, token);
    show(document.getElementById(`${box}-empty`), items.length === 0);
    for (const item of items) body.appendChild(draw(item));
  } catch (err) {
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

function campaignRow(c) {
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
  return tr;
}

// The city's eye: the latest anomalies in crowd counts and shops' days, each with its evidence.
// The evidence in the page's language, from the numbers (the service's English sentence is the row's title).
function anomalyEvidence(a) {
  const share = a.kind === "shift";
  const num = (x) => (share ? `${formatNumber(100 * x, 1)} %` : formatNumber(x, x % 1 ? 1 : 0));
  const key = a.source === "crowd" ? "evidence_crowd" : `evidence_${a.kind}`;
  return t(key).replace("{observed}", num(a.observed)).replace("{expected}", num(a.expected))
    .replace("{z}", formatNumber(a.robust_z, 1));
}

function anomalyWhen(a) {
  if (a.source !== "crowd") return a.at;  // a shop's day
  const locale = currentLanguage === "ja" ? "ja-JP" : "en-GB";
  return new Date(a.at).toLocaleString(locale, { timeZone: "Asia/Tokyo", year: "numeric", month: "numeric",
                                                  day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function anomalyRow(a) {
  const tr = row([anomalyWhen(a), t(`source_${a.source}`), t(`anomaly_${a.kind}`), a.place, anomalyEvidence(a)], []);
  tr.dataset.kind = a.kind;
  tr.dataset.source = a.source;
  tr.title = a.evidence;
  return tr;
}

const campaignPanel = () => operatorPanel("campaigns", "campaign-rows", "/v1/operator/campaigns", campaignRow);
const anomalyPanel = () => operatorPanel("anomalies", "anomaly-rows", "/v1/operator/anomalies?limit=50", anomalyRow);

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
