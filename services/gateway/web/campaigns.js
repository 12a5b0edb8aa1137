// The operators' campaign controls on the dashboard: launch a campaign from a form (its place a chokepoint of
// the map data), and pause, resume, revise or stop each campaign from its row. Errors the gateway names a
// field for (422) are written beside that field; the campaign service's own refusals of a revision too.
"use strict";

const DEFAULT_OFFERS = [
  { offer_id: "early30", kind: "shift_earlier", reward_yen: 100, shift_min: 30, shop: "", label: "" },
  { offer_id: "late30", kind: "shift_later", reward_yen: 200, shift_min: 30, shop: "", label: "" },
];
const OFFER_FIELDS = ["offer_id", "kind", "reward_yen", "shift_min", "shop", "label"];
const REVISABLE = ["daily_budget_yen", "guard_yen", "max_offers_per_user_per_day", "pause_after_declines",
                   "valid_minutes"];
const campaignSummaries = new Map();  // the rows last drawn, by campaign id (the edit dialog starts from one)
let campaignMap = null;
let editing = null;
let shownMessage = null;  // the last message, as a function of the page's language (redrawn on a switch)

function offerKinds() {
  return { shift_earlier: t("offer_kind_shift_earlier"), shift_later: t("offer_kind_shift_later"),
           coupon: t("offer_kind_coupon"), other_exit: t("offer_kind_other_exit"),
           other_mall: t("offer_kind_other_mall"), shared_mobility: t("offer_kind_shared_mobility"),
           ev_charge_now: t("offer_kind_ev_charge_now") };
}

function tokyoToday() { return new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Tokyo" }); }

// A number field as the gateway should judge it: empty or not a number is sent as typed, so the 422 names it.
function numberOf(raw) {
  const text = String(raw).trim();
  return text !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
}

// ---------------------------------------------------------------- field errors

function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
}

// The gateway's 422: each error's loc (["body", field, ...]) or, for a rule over several fields, the message's
// own "field: rule" names where it goes; offers are named by position or by their offer id. Returns the
// errors no field on the form could take.
function showFieldErrors(form, answer, offerIds = []) {
  const unplaced = [];
  for (const e of answer.detail || [{ loc: ["body"], msg: answer.message || "" }]) {
    const loc = e.loc || [];
    let parts = loc[0] === "body" ? loc.slice(1) : loc.slice();
    let msg = String(e.msg || "").replace(/^Value error, /, "");
    const named = /^([A-Za-z0-9_.-]+): ([\s\S]*)$/.exec(msg);
    if (parts.length === 0 && named) { parts = named[1].split("."); msg = named[2]; }
    if (parts[0] === "offers" && parts.length > 1 && offerIds.includes(String(parts[1]))) {
      parts[1] = offerIds.indexOf(String(parts[1]));
    }
    const keys = parts[0] === "offers" && parts.length > 2 ? [`offers.${parts[1]}.${parts[2]}`, "offers"]
      : [String(parts[0] || "")];
    const el = keys.map((k) => form.querySelector(`[data-error-for="${CSS.escape(k)}"]`)).find(Boolean);
    if (!el) { unplaced.push(`${parts.join(".") || "body"}: ${msg}`); continue; }
    el.textContent = el.textContent ? `${el.textContent}; ${msg}` : msg;
    const holder = el.closest(".field, td");
    if (holder) holder.classList.add("invalid");
  }
  return unplaced;
}

// A form's refusal: the errors the gateway names a field for beside their fields, the others under the form.
function refusedOnForm(form, general, answer, offerIds = []) {
  general.textContent = answer.status === 422 ? showFieldErrors(form, answer.body, offerIds).join(" / ")
    : answer.body.message || `HTTP ${answer.status}`;
}

function clearForm(form, general) {
  clearErrors(form);
  general.textContent = "";
}

function campaignMessage(text, ok) {
  shownMessage = { text, ok };
  const el = document.getElementById("campaigns-message");
  el.className = ok ? "ok" : "error";
  el.textContent = text();
}

// ---------------------------------------------------------------- the new-campaign form

function campaignPlaces(data) {
  if (data) campaignMap = data;
  if (!campaignMap) return;
  const select = document.getElementById("cf-place");
  const chosen = select.value;
  const seen = new Set();
  select.textContent = "";
  for (const f of campaignMap.features) {
    const p = f.properties;
    if (!p.chokepoint || seen.has(p.chokepoint)) continue;
    seen.add(p.chokepoint);
    const option = document.createElement("option");
    option.value = p.chokepoint;
    option.textContent = `${placeName(p)} — ${p.chokepoint}`;
    select.appendChild(option);
  }
  if (chosen && seen.has(chosen)) select.value = chosen;
  suggestCampaignId();
}

function suggestCampaignId() {
  const input = document.getElementById("cf-campaign_id");
  if (input.value && input.dataset.suggested !== input.value) return;  // the operator's own id stays
  const day = (document.getElementById("cf-day").value || tokyoToday()).replaceAll("-", "");
  const now = new Date().toLocaleTimeString("en-GB", { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit",
                                                      hourCycle: "h23" }).replace(":", "");
  input.value = `${document.getElementById("cf-place").value || "campaign"}-${day}-${now}`;
  input.dataset.suggested = input.value;
}

function offerCell(tr, name, control) {
  const td = document.createElement("td");
  control.name = name;
  control.setAttribute("aria-label", t(`cf_offer_${name}`));
  const error = document.createElement("span");
  error.className = "field-error";
  error.dataset.name = name;
  td.append(control, error);
  tr.appendChild(td);
}

function offerRow(offer) {
  const tr = document.createElement("tr");
  tr.className = "offer-row";
  for (const name of OFFER_FIELDS) {
    let control;
    if (name === "kind") {
      control = document.createElement("select");
      for (const [kind, text] of Object.entries(offerKinds())) {
        const option = document.createElement("option");
        option.value = kind;
        option.textContent = text;
        control.appendChild(option);
      }
    } else {
      control = document.createElement("input");
      if (name === "reward_yen" || name === "shift_min") { control.type = "number"; control.min = "0"; control.step = "1"; }
    }
    control.value = offer[name] === undefined ? "" : String(offer[name]);
    offerCell(tr, name, control);
  }
  const td = document.createElement("td");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "small secondary";
  remove.dataset.action = "remove-offer";
  remove.textContent = t("btn_remove");
  td.appendChild(remove);
  tr.appendChild(td);
  return tr;
}

// Each error slot of an offer row is named by the row's position, as the gateway's loc names it.
function renumberOffers() {
  document.querySelectorAll("#cf-offer-rows tr").forEach((tr, i) => {
    for (const el of tr.querySelectorAll(".field-error")) el.dataset.errorFor = `offers.${i}.${el.dataset.name}`;
  });
}

function resetCampaignForm() {
  const rows = document.getElementById("cf-offer-rows");
  rows.textContent = "";
  for (const offer of DEFAULT_OFFERS) rows.appendChild(offerRow(offer));
  renumberOffers();
  document.getElementById("cf-day").value = tokyoToday();
  suggestCampaignId();
}

function campaignBody() {
  const value = (name) => document.getElementById(`cf-${name}`).value.trim();
  const offers = [...document.querySelectorAll("#cf-offer-rows tr")].map((tr) => {
    const get = (name) => tr.querySelector(`[name="${name}"]`).value.trim();
    const offer = { offer_id: get("offer_id"), kind: get("kind"), reward_yen: numberOf(get("reward_yen")),
                    shift_min: get("shift_min") === "" ? 0 : numberOf(get("shift_min")), label: get("label") };
    if (get("shop")) offer.shop = get("shop");
    return offer;
  });
  const share = numberOf(value("share"));
  const quiet = [document.getElementById("cf-quiet-start").value, document.getElementById("cf-quiet-end").value];
  return {
    campaign_id: value("campaign_id"), operator: value("operator"), day: value("day"), goal_kind: value("goal_kind"),
    place: value("place"), window: [document.getElementById("cf-window-start").value,
                                    document.getElementById("cf-window-end").value],
    share: typeof share === "number" ? share / 100 : share, focus: value("focus"),
    daily_budget_yen: numberOf(value("daily_budget_yen")), guard_yen: numberOf(value("guard_yen")),
    valid_minutes: numberOf(value("valid_minutes")),
    max_offers_per_user_per_day: numberOf(value("max_offers_per_user_per_day")), offers,
    // No offer is sent inside the quiet hours; both left empty: none.
    quiet_hours: quiet[0] || quiet[1] ? quiet : null,
  };
}

async function sendJSON(path, method, body) {
  const options = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await authorized(path, options);
  return { status: response.status, body: await response.json().catch(() => ({})) };
}

async function launchCampaign(event) {
  event.preventDefault();
  const form = document.getElementById("campaign-form");
  const general = document.getElementById("campaign-form-error");
  clearForm(form, general);
  const body = campaignBody();
  const answer = await sendJSON("/v1/operator/campaigns", "POST", body);
  if (answer.status === 202) {
    campaignMessage(() => t("campaign_launched").replace("{id}", answer.body.id), true);
    document.getElementById("cf-campaign_id").value = "";
    resetCampaignForm();
    await campaignPanel();
  } else {
    refusedOnForm(form, general, answer, body.offers.map((o) => o.offer_id));
  }
}

// ---------------------------------------------------------------- each campaign's row

function campaignActions(c) {
  campaignSummaries.set(c.campaign_id, c);
  const td = document.createElement("td");
  td.className = "actions";
  if (c.state === "stopped" || c.stopped) { td.textContent = "–"; return td; }
  const labels = { pause: t("btn_pause"), resume: t("btn_resume"), edit: t("btn_edit"), stop: t("btn_stop") };
  for (const action of [c.state === "paused" ? "resume" : "pause", "edit", "stop"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "stop" ? "small danger" : "small";
    button.dataset.action = action;
    button.dataset.campaign = c.campaign_id;
    button.textContent = labels[action];
    td.appendChild(button);
  }
  return td;
}

async function campaignAction(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = button.dataset.campaign;
  const action = button.dataset.action;
  if (action === "edit") { openRevision(id); return; }
  if (action === "stop" && button.dataset.confirm !== "yes") {  // stopping is final: a second click confirms
    button.dataset.confirm = "yes";
    button.textContent = t("btn_stop_confirm");
    return;
  }
  const path = `/v1/operator/campaigns/${encodeURIComponent(id)}/${action}`;
  const answer = await sendJSON(path, "POST", action === "resume" ? undefined : {});
  const done = () => ({ pause: t("campaign_done_pause"), resume: t("campaign_done_resume"),
                        stop: t("campaign_done_stop") })[action];
  if (answer.status === 202) campaignMessage(() => `${id}: ${done()}`, true);
  else campaignMessage(() => `${id}: ${answer.body.message || `HTTP ${answer.status}`}`, false);
  await campaignPanel();
}

// ---------------------------------------------------------------- the revision dialog

function revisionValues(c) {
  return { daily_budget_yen: c.budget.planned_yen, guard_yen: c.budget.guard_yen, ...c.terms };
}

function openRevision(id) {
  const c = campaignSummaries.get(id);
  if (!c) return;
  editing = id;
  clearForm(document.getElementById("campaign-edit-form"), document.getElementById("campaign-edit-error"));
  document.getElementById("ce-title").textContent = t("campaign_edit_title").replace("{id}", id);
  document.getElementById("ce-committed").textContent = t("campaign_edit_committed")
    .replace("{expected}", formatNumber(c.budget.expected_committed_yen, 0))
    .replace("{worst}", formatNumber(c.budget.worst_case_committed_yen, 0));
  const values = revisionValues(c);
  for (const name of REVISABLE) {
    const input = document.getElementById(`ce-${name}`);
    input.value = String(values[name]);
    input.dataset.initial = input.value;
  }
  document.getElementById("campaign-edit").showModal();
}

async function saveRevision(event) {
  event.preventDefault();
  const form = document.getElementById("campaign-edit-form");
  const general = document.getElementById("campaign-edit-error");
  clearForm(form, general);
  const changes = {};
  for (const name of REVISABLE) {
    const input = document.getElementById(`ce-${name}`);
    if (input.value.trim() !== input.dataset.initial) changes[name] = numberOf(input.value);
  }
  if (Object.keys(changes).length === 0) { general.textContent = t("campaign_nothing_changed"); return; }
  const answer = await sendJSON(`/v1/operator/campaigns/${encodeURIComponent(editing)}`, "PATCH", changes);
  if (answer.status === 200 || answer.status === 202) {
    document.getElementById("campaign-edit").close();
    const id = editing;
    campaignMessage(() => (answer.status === 200 ? `${id}: ${t("campaign_revised").replace("{n}", answer.body.revision)}`
      : `${id}: ${t("campaign_requested")}`), true);
    await campaignPanel();
  } else {
    refusedOnForm(form, general, answer);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  resetCampaignForm();
  document.getElementById("campaign-form").addEventListener("submit", launchCampaign);
  document.getElementById("cf-place").addEventListener("change", suggestCampaignId);
  document.getElementById("cf-day").addEventListener("change", suggestCampaignId);
  document.getElementById("cf-add-offer").addEventListener("click", () => {
    const rows = document.getElementById("cf-offer-rows");
    rows.appendChild(offerRow({ offer_id: `offer${rows.children.length + 1}`, kind: "shift_later", reward_yen: 100,
                                shift_min: 15 }));
    renumberOffers();
  });
  document.getElementById("cf-offer-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action='remove-offer']");
    if (!button) return;
    button.closest("tr").remove();
    renumberOffers();
  });
  document.getElementById("campaign-rows").addEventListener("click", campaignAction);
  document.getElementById("campaign-edit-form").addEventListener("submit", saveRevision);
  document.getElementById("ce-cancel").addEventListener("click", () => document.getElementById("campaign-edit").close());
  onSession(() => {  // signed out (or no longer an operator): nothing of the last operator's work stays open
    if (isOperator()) return;
    document.getElementById("campaign-edit").close();
    shownMessage = null;
    document.getElementById("campaigns-message").textContent = "";
  });
  onLanguage(() => {
    campaignPlaces();
    if (shownMessage) campaignMessage(shownMessage.text, shownMessage.ok);
    for (const select of document.querySelectorAll("#cf-offer-rows select[name='kind']")) {
      for (const option of select.options) option.textContent = offerKinds()[option.value];
    }
    for (const button of document.querySelectorAll("#cf-offer-rows button")) button.textContent = t("btn_remove");
  });
});
