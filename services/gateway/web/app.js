// The app for people around Ebina: sign up or sign in, then "my energy": balance, the statement as a bill,
// trades and renewable certificates, each with a "verified" badge checked in this browser (verify.js), and
// retiring a certificate with the ledger's answer shown.
"use strict";

let anchorsText = null;
let shownSignedIn = null;

function counterparty(name) { return name === "grid" ? t("grid") : name; }

function yen(value) { return `${formatNumber(value, 0)} ${t("yen")}`; }
function yenExact(value) { return `${formatNumber(value, 2)} ${t("yen")}`; }

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

// ---------------------------------------------------------------- the "verified" badge

function badge(state, detail) {
  const span = document.createElement("span");
  span.className = `badge badge-${state}`;
  span.dataset.state = state;
  const label = document.createElement("strong");
  label.textContent = t(`proof_${state}`);
  span.appendChild(label);
  if (detail) {
    const small = document.createElement("small");
    small.textContent = detail;
    span.appendChild(small);
  }
  return span;
}

async function publishedAnchors() {
  if (anchorsText === null) {
    const response = await fetch("/v1/ledger/anchors.jsonl");
    anchorsText = response.ok ? await response.text() : "";
  }
  return parseAnchors(anchorsText);
}

function anchorDetail(anchor) {
  return `${t("anchor")}: ${localSlot(anchor.slot)} · root ${anchor.merkle_root.slice(0, 12)}… (#${anchor.anchor_seq})`;
}

// The badge for one proof answer: verified (with the anchor), not yet anchored, or failed (with why).
async function proofBadge(proof) {
  if (proof === "pending") return badge("pending");
  if (!proof || typeof proof === "string") return badge("failed", proof || "");
  const result = await checkProof(proof, await publishedAnchors());
  return result.state === "verified" ? badge("verified", anchorDetail(result.anchor)) : badge("failed", result.reason);
}

async function fetchProof(path) {
  const response = await authorized(path);
  if (response.status === 409) return "pending";
  if (!response.ok) return `HTTP ${response.status}`;
  return response.json();
}

async function fillBadge(td, loadProof) {
  td.textContent = t("proof_checking");
  try {
    const node = await loadProof();
    td.textContent = "";
    td.appendChild(node);
  } catch (err) {
    td.textContent = "";
    td.appendChild(badge("failed", err.message));
  }
}

async function tradeBadge(tradeId) {
  return proofBadge(await fetchProof(`/v1/ledger/proofs/trades/${encodeURIComponent(tradeId)}`));
}

// A certificate is verified when its issue is under a published root, and so is its retirement once retired.
async function certificateBadge(certId) {
  const answer = await fetchProof(`/v1/ledger/proofs/certificates/${encodeURIComponent(certId)}`);
  if (typeof answer === "string") return proofBadge(answer);
  const parts = [answer.issued, ...(answer.retired ? [answer.retired] : [])];
  if (parts.some((p) => p.status !== "anchored")) return badge("pending");
  const checked = [];
  for (const p of parts) checked.push(await proofBadge(p.proof));
  return checked.find((b) => b.dataset.state !== "verified") || checked[checked.length - 1];
}

// The badge goes on a row of its own under its trade or certificate, across the table (readable on a phone).
function proofRow(kind, id, columns, loadProof) {
  const tr = document.createElement("tr");
  tr.className = "proof-row";
  tr.dataset[kind] = id;
  const td = cell("", "proof");
  td.colSpan = columns;
  tr.appendChild(td);
  fillBadge(td, loadProof);
  return tr;
}

// ---------------------------------------------------------------- the bill

/** Rides, deliveries, rewards and cost shares: in the net total but on no energy line, so shown as their own row. */
function otherPaymentsYen(statement) {
  return (statement.payments || []).reduce((sum, p) => sum + Number(p.net_yen), 0).toFixed(2);
}

function billRows(statement) {
  const s = statement.totals;
  const net = Number(s.net_yen);
  const rows = [
    ["bill_bought", `${formatNumber(s.bought_kwh, 3)} kWh`],
    ["bill_sold", `${formatNumber(s.sold_kwh, 3)} kWh`],
    ["bill_energy", yenExact(s.energy_yen)],
    ["bill_wheeling", yenExact(s.wheeling_yen)],
    ["bill_fee", yenExact(s.platform_fee_yen)],
    ["bill_other", yenExact(otherPaymentsYen(statement))],
    [net < 0 ? "bill_to_pay" : "bill_to_receive", yenExact(Math.abs(net)), "total"],
    ["bill_certificates", `${formatNumber(s.certificates_kwh, 3)} kWh`],
  ];
  const body = document.getElementById("bill-rows");
  body.textContent = "";
  for (const [key, value, cls] of rows) {
    const tr = document.createElement("tr");
    if (cls) tr.className = cls;
    const th = document.createElement("th");
    th.textContent = t(key);
    th.scope = "row";
    tr.append(th, cell(value, "num"));
    body.appendChild(tr);
  }
}

// ---------------------------------------------------------------- renewable target (A on-site, B community, C certificates)

const TARGET_KEY = "citymatch.target.share";
const TARGET_PARTS = [["from_on_site_kwh", "target_a"], ["from_community_kwh", "target_b"],
                      ["certificates_retired_kwh", "target_c"], ["still_to_cover_kwh", "target_rest"]];

async function loadTarget() {
  const select = document.getElementById("target-share");
  select.value = localStorage.getItem(TARGET_KEY) || "0.6";
  const target = document.getElementById("retire-target").value.trim();
  const query = new URLSearchParams({ share: select.value, ...(target ? { target } : {}) });
  const p = await authorizedJSON(`/v1/ledger/renewable-target?${query}`);
  const goal = Math.max(Number(p.target_kwh), 1e-9);
  const bar = document.getElementById("target-bar");
  const legend = document.getElementById("target-legend");
  bar.textContent = "";
  legend.textContent = "";
  for (const [field, key] of TARGET_PARTS) {
    const kwh = Number(p[field] || 0);
    const seg = document.createElement("span");
    seg.className = `seg ${key}`;
    seg.style.width = `${Math.min(100, (100 * kwh) / goal)}%`;
    bar.appendChild(seg);
    const li = document.createElement("li");
    li.className = key;
    li.dataset.part = key;
    li.textContent = `${t(key)}: ${formatNumber(kwh, 3)} kWh`;
    legend.appendChild(li);
  }
  bar.setAttribute("aria-label", `${t("target_title")} ${Math.round(Number(select.value) * 100)} %`);
  const verdict = document.getElementById("target-verdict");
  verdict.dataset.met = String(p.met);
  verdict.textContent = p.met ? t("target_met")
    : t("target_short").replace("{kwh}", formatNumber(p.still_to_cover_kwh, 3))
                       .replace("{goal}", formatNumber(p.target_kwh, 3));
}

// ---------------------------------------------------------------- trades and certificates

function tradeRows(statement) {
  const body = document.getElementById("trade-rows");
  body.textContent = "";
  for (const line of statement.lines) {
    const tr = document.createElement("tr");
    tr.dataset.trade = line.trade_id;
    const who = `${line.role === "buyer" ? t("bought_from") : t("sold_to")} ${counterparty(line.counterparty)}`;
    tr.append(cell(localSlot(line.slot)), cell(who), cell(formatNumber(line.kwh, 3), "num"),
              cell(formatNumber(line.price, 2), "num"), cell(formatNumber(line.net_yen, 2), "num"));
    body.append(tr, proofRow("trade", line.trade_id, 5, () => tradeBadge(line.trade_id)));
  }
  show(document.getElementById("no-trades"), statement.lines.length === 0);
}

// Entries of other kinds that moved the caller's account: rewards, fares, charging bills ...
function paymentRows(statement) {
  const body = document.getElementById("payment-rows");
  body.textContent = "";
  for (const p of statement.payments || []) {
    const tr = document.createElement("tr");
    tr.dataset.payment = `${p.kind}:${p.ref}`;
    tr.dataset.kind = p.kind;
    const label = t(`payment_${p.kind}`);
    tr.append(cell(p.slot ? localSlot(p.slot) : ""), cell(label === `payment_${p.kind}` ? p.kind : label),
              cell(formatNumber(p.net_yen, 2), "num"));
    const proof = `/v1/ledger/proofs/entries/${encodeURIComponent(p.kind)}/${encodeURIComponent(p.ref)}`;
    body.append(tr, proofRow("payment", `${p.kind}:${p.ref}`, 3, async () => proofBadge(await fetchProof(proof))));
  }
  show(document.getElementById("no-payments"), (statement.payments || []).length === 0);
}

function retireAnswer(status, body) {
  const key = { 200: "retire_done", 202: "retire_requested", 404: "retire_missing", 409: "retire_conflict" }[status];
  const target = body.target ? ` (${body.target})` : "";
  return key ? `${t(key)}${target}` : `${t("error_load")}: HTTP ${status} ${body.message || ""}`;
}

async function retire(certId) {
  const message = document.getElementById("retire-message");
  const target = document.getElementById("retire-target").value.trim();
  if (!target) { message.textContent = t("retire_need_target"); return; }
  message.textContent = t("proof_checking");
  const response = await authorized(`/v1/ledger/certificates/${encodeURIComponent(certId)}/retire`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ target }) });
  const body = await response.json().catch(() => ({}));
  message.dataset.status = String(response.status);
  message.textContent = `${certId}: ${retireAnswer(response.status, body)}`;
  anchorsText = null;
  await Promise.all([loadCertificates(), loadTarget()]);
}

async function loadCertificates() {
  const certs = await authorizedJSON("/v1/ledger/certificates");
  const body = document.getElementById("cert-rows");
  body.textContent = "";
  for (const c of certs) {
    const tr = document.createElement("tr");
    tr.dataset.cert = c.cert_id;
    const state = cell(c.retired ? `${t("cert_retired")}: ${c.retired_target}` : t("cert_active"));
    if (!c.retired) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small retire";
      button.textContent = t("retire_button");
      button.addEventListener("click", () => retire(c.cert_id));
      state.append(" ", button);
    }
    tr.append(cell(localSlot(c.slot)), cell(counterparty(c.source_site || c.source_participant)),
              cell(formatNumber(c.kwh, 3), "num"), state);
    body.append(tr, proofRow("cert", c.cert_id, 4, () => certificateBadge(c.cert_id)));
  }
  show(document.getElementById("no-certs"), certs.length === 0);
  show(document.getElementById("retire-form"), certs.some((c) => !c.retired));
}

// ---------------------------------------------------------------- preferences

const PREF_FIELDS = { notifications: "pref-notifications", offers_opt_out: "pref-offers-opt-out",
                      quiet_start: "pref-quiet-start", quiet_end: "pref-quiet-end", ev_profile: "pref-ev-profile",
                      home_area: "pref-home-area", work_area: "pref-work-area" };

async function loadPreferences() {
  const response = await authorized("/v1/app/preferences");
  show(document.getElementById("prefs-form"), response.ok);
  if (!response.ok) {
    document.getElementById("prefs-message").textContent = t("prefs_none");
    return;
  }
  const prefs = await response.json();
  for (const [key, id] of Object.entries(PREF_FIELDS)) {
    const el = document.getElementById(id);
    if (el.type === "checkbox") el.checked = Boolean(prefs[key]);
    else el.value = prefs[key] || "";
  }
}

async function savePreferences() {
  const body = {};
  for (const [key, id] of Object.entries(PREF_FIELDS)) {
    const el = document.getElementById(id);
    body[key] = el.type === "checkbox" ? el.checked : (el.value.trim() || null);
  }
  const response = await authorized("/v1/app/preferences", {
    method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  const message = document.getElementById("prefs-message");
  message.dataset.status = String(response.status);
  message.className = response.ok ? "ok" : "error";
  message.textContent = response.ok ? t("prefs_saved") : answer.message || `HTTP ${response.status}`;
}

// ---------------------------------------------------------------- pages

async function loadEnergy() {
  const session = currentSession();
  shownSignedIn = Boolean(session);
  show(document.getElementById("signin"), !session);
  show(document.getElementById("energy"), Boolean(session));
  show(document.getElementById("preferences"), Boolean(session));
  const error = document.getElementById("energy-error");
  error.textContent = "";
  if (!session) return;
  document.getElementById("who").textContent = session.account.username;
  const target = document.getElementById("retire-target");
  if (!target.value) target.value = `renewable-${new Date().getFullYear()}`;
  try {
    const [balance, statement] = await Promise.all([authorizedJSON("/v1/ledger/balance"),
                                                    authorizedJSON("/v1/ledger/statement")]);
    document.getElementById("balance-yen").textContent = yenExact(balance.yen);
    document.getElementById("balance-kwh").textContent = `${formatNumber(balance.kwh, 3)} kWh`;
    billRows(statement);
    tradeRows(statement);
    paymentRows(statement);
    await Promise.all([loadCertificates(), loadPreferences(), loadTarget()]);
    document.body.dataset.energyReady = "yes";
  } catch (err) {
    if (err.auth) { await signOut(); return; }
    error.textContent = `${t("error_load")}: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = document.getElementById("signin-message");
    message.textContent = "";
    const answer = await signIn(document.getElementById("signin-username").value.trim(),
                                document.getElementById("signin-password").value);
    if (answer.status !== 200) message.textContent = refusal(answer);
    document.getElementById("signin-password").value = "";
  });
  document.getElementById("signup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = document.getElementById("signup-message");
    const username = document.getElementById("signup-username").value.trim();
    const answer = await signUp(username, document.getElementById("signup-password").value);
    message.className = answer.status === 201 ? "ok" : "error";
    message.textContent = answer.status === 201 ? t("signup_done") : refusal(answer);
    if (answer.status === 201) document.getElementById("signin-username").value = answer.body.username;
  });
  document.getElementById("signout").addEventListener("click", signOut);
  document.getElementById("prefs-form").addEventListener("submit", (event) => { event.preventDefault(); savePreferences(); });
  document.getElementById("target-share").addEventListener("change", (event) => {
    localStorage.setItem(TARGET_KEY, event.target.value);
    loadTarget();
  });
  onSession((session) => { if (Boolean(session) !== shownSignedIn) loadEnergy(); });
  onLanguage(loadEnergy);
  loadEnergy();
});
