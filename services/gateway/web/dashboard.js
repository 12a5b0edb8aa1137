// The operators' dashboard: the map, the chokepoints, the services' readiness, the ledger by slot, and the
// incentive campaigns' budget planned against spent (expected and realised), offers and load removed.
// Operators and planners sign in with their accounts (session.js, this page's own session); the operator
// panels are drawn for the operator role only, the map for both; other roles are signed out of this page.
"use strict";

const DASHBOARD_ROLES = ["operator", "planner"];

// The signed-in role on this page, or null (a session of another role does not count: it is being ended).
function dashboardRole() {
  const session = currentSession();
  const role = session && session.account ? session.account.role : null;
  return DASHBOARD_ROLES.includes(role) ? role : null;
}

function isOperator() { return dashboardRole() === "operator"; }

function placeName(p) {
  return currentLanguage === "ja" && p.name_ja ? `${p.name_ja}（${p.name}）` : `${p.name}${p.name_ja ? ` · ${p.name_ja}` : ""}`;
}

function chokepointRows(data) {
  const body = document.getElementById("chokepoint-rows");
  body.textContent = "";
  for (const f of data.features.filter((x) => x.properties.chokepoint)) {
    const p = f.properties;
    body.appendChild(row([placeName(p), formatNumber(p.width_m, 0), t(`kind_${p.kind}`)], [1]));
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
  const body = document.getElementById("slot-rows");
  show(document.getElementById("slots"), isOperator());
  if (!isOperator()) { body.textContent = ""; return; }
  try {
    const slots = await authorizedJSON("/v1/operator/ledger/slots");
    body.replaceChildren(...slots.map((s) => row([s.slot ? localSlot(s.slot) : "-", formatNumber(s.trades, 0),
                                                  formatNumber(s.kwh, 3), formatNumber(s.energy_yen, 2)], [1, 2, 3])));
    document.getElementById("slots-error").textContent = "";
  } catch (err) {
    document.getElementById("slots-error").textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

function campaignGoal(c) {
  const g = c.goal;
  return `${t(`goal_${g.kind}`)} ${g.place} ${g.window[0]}–${g.window[1]} (${formatNumber(100 * g.share, 0)} %)`;
}

// An operator panel: hidden unless an operator is signed in; rows drawn from one operator route, an empty
// note when there are none, the error (or a refused session) said in the panel.
// Elements: #<box> (the table's frame), #<box>-empty, #<box>-error, and the table body #<rows>.
// The rows are replaced at once when the answer is in (a refresh never shows an empty table in between).
async function operatorPanel(box, rows, path, draw) {
  const body = document.getElementById(rows);
  const error = document.getElementById(`${box}-error`);
  show(document.getElementById(box), isOperator());
  if (!isOperator()) {
    body.textContent = "";
    show(document.getElementById(`${box}-empty`), false);
    return;
  }
  try {
    const items = await authorizedJSON(path);
    body.replaceChildren(...items.map(draw));
    show(document.getElementById(`${box}-empty`), items.length === 0);
    error.textContent = "";
  } catch (err) {
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

function campaignRow(c) {
  const b = c.budget, o = c.offers, l = c.load_removed;
  const state = c.state === "stopped" || c.stopped ? ` · ${t("campaign_stopped")}`
    : c.state === "paused" ? ` · ${t("campaign_paused")}` : "";
  const tr = row([
    `${c.campaign_id} · ${campaignGoal(c)}${state}`,
    formatNumber(b.planned_yen, 0), formatNumber(b.expected_committed_yen, 0), formatNumber(b.realised_yen, 0),
    `${formatNumber(100 * b.realised_share_of_planned, 1)} %`,
    formatNumber(o.sent, 0), formatNumber(o.accepted, 0), formatNumber(o.redeemed, 0),
    formatNumber(l.expected, 1), formatNumber(l.accepted, 1),
    c.ledger ? `${formatNumber(c.ledger.balance_yen, 0)} / ${formatNumber(c.ledger.funded_yen, 0)}` : t("campaign_not_on_ledger"),
  ], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  tr.dataset.campaign = c.campaign_id;
  tr.dataset.state = c.state || (c.stopped ? "stopped" : "running");
  tr.title = `${t("col_guard")}: ${formatNumber(b.guard_yen, 0)} · ${t("col_expected_planned")}: ${formatNumber(b.expected_planned_yen, 0)}`;
  tr.appendChild(campaignActions(c));
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

// Who is signed in, with which role; the operator panels for operators, a note for planners.
let shownRole;

function showSession() {
  const role = dashboardRole();
  const session = role ? currentSession() : null;
  if (role) document.body.dataset.role = role;
  else delete document.body.dataset.role;
  show(document.getElementById("dash-signin"), !role);
  show(document.getElementById("dash-session"), Boolean(role));
  show(document.getElementById("planner-note"), role === "planner");
  for (const el of document.querySelectorAll(".operator-only")) show(el, role === "operator");
  document.getElementById("dash-who").textContent = session ? session.account.username : "";
  document.getElementById("dash-role").textContent = role ? t(role === "operator" ? "role_operator" : "role_planner") : "";
  if (role === shownRole) return;
  shownRole = role;
  ledgerSlots();
  campaignPanel();
  anomalyPanel();
}

async function dashboardSignIn(event) {
  event.preventDefault();
  const message = document.getElementById("dash-signin-message");
  message.textContent = "";
  const password = document.getElementById("dash-password");
  const answer = await signIn(document.getElementById("dash-username").value.trim(), password.value);
  password.value = "";
  if (answer.status !== 200) {
    message.textContent = refusal(answer);
  } else if (!DASHBOARD_ROLES.includes(answer.body.account.role)) {
    await signOut();  // an app user's (or a device's) session has no place on this page
    message.textContent = t("dash_not_for_role");
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("dash-signin-form").addEventListener("submit", dashboardSignIn);
  document.getElementById("dash-signout").addEventListener("click", () => signOut());
  onSession(showSession);
  readiness();
  if (currentSession() && !dashboardRole()) await signOut();
  showSession();
  onLanguage(() => { showSession(); campaignPanel(); anomalyPanel(); });
  setInterval(() => anomalyPanel(), 30000);
  // Counters move while the page is open: campaigns and ledger slots every 10 s, readiness every 30 s.
  setInterval(() => { campaignPanel(); ledgerSlots(); }, 10000);
  setInterval(() => readiness(), 30000);
  try {
    const data = await loadMap(document.getElementById("map"));
    chokepointRows(data);
    campaignPlaces(data);
    onLanguage(() => { chokepointRows(data); readiness(); ledgerSlots(); });
    document.getElementById("map-attribution").textContent = data.attribution;
    document.body.dataset.mapReady = "yes";
  } catch (err) {
    document.getElementById("map").textContent = `${t("error_load")}: ${err.message}`;
  }
});
