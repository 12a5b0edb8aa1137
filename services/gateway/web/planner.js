// The planners' simulator panel: launch a run of the Ebina crowd simulator (a scenario's day, a campaign's
// replay, two scenarios compared), follow the runs' progress and open their reports. Shown to planners and
// operators signed in on this page (session.js); it asks every second while a run waits or walks,
// every half minute otherwise (report links are signed for a while, so they are kept fresh too).
"use strict";

const SIM_ROLES = ["planner", "operator"];
const SIM_ACTIVE = ["queued", "running"];
const SIM_POLL_MS = 1000;
const SIM_IDLE_MS = 30000;
let simScenarios = [];
let simRuns = [];
let simTimer = null;

function simAllowed() {
  const session = currentSession();
  return Boolean(session && session.account && SIM_ROLES.includes(session.account.role));
}

function simScenarioTitle(name) {
  const found = simScenarios.find((s) => s.name === name);
  return found ? found.title[currentLanguage] || found.name : name;
}

function simFillScenarios(select) {
  const keep = select.value;
  select.textContent = "";
  for (const s of simScenarios) {
    const option = document.createElement("option");
    option.value = s.name;
    option.textContent = simScenarioTitle(s.name);
    select.appendChild(option);
  }
  if (keep && simScenarios.some((s) => s.name === keep)) select.value = keep;
}

function simKindChanged() {
  const compare = document.getElementById("sim-kind").value === "compare";
  show(document.getElementById("sim-against"), compare);
  show(document.getElementById("sim-against-label"), compare);
}

function simWhen(iso) {
  const locale = currentLanguage === "ja" ? "ja-JP" : "en-GB";
  return new Date(iso).toLocaleString(locale, { timeZone: "Asia/Tokyo", month: "numeric", day: "numeric",
                                                hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function simCell(tr, text, className) {
  const td = document.createElement("td");
  if (text !== undefined) td.textContent = text;
  if (className) td.className = className;
  tr.appendChild(td);
  return td;
}

function simProgress(run) {
  const wrap = document.createElement("div");
  const bar = document.createElement("progress");
  const total = run.total_minutes;
  if (run.state === "done") {
    bar.max = Math.max(total, 1);
    bar.value = bar.max;
  } else if (total > 0) {
    bar.max = total;
    bar.value = run.minutes;
  } else if (run.state !== "running") {
    bar.max = 1;
    bar.value = 0;
  }  // running before the worker has said how long: an indeterminate bar
  bar.dataset.minutes = String(run.minutes);
  bar.dataset.total = String(total);
  const note = document.createElement("div");
  note.className = "note";
  const minutes = total > 0 ? t("sim_minutes").replace("{done}", formatNumber(run.minutes, 0))
    .replace("{total}", formatNumber(total, 0)) : "";
  const stage = SIM_ACTIVE.includes(run.state) || run.stage === "interrupted" ? t(`sim_stage_${run.stage}`) : "";
  note.textContent = [stage, minutes].filter(Boolean).join(" · ");
  wrap.append(bar, note);
  return wrap;
}

function simRow(run) {
  const tr = document.createElement("tr");
  tr.dataset.run = run.id;
  tr.dataset.state = run.state;
  const what = `${t(`sim_kind_${run.kind}`)}: ${simScenarioTitle(run.scenario)}` +
    (run.against ? ` ${t("sim_vs")} ${simScenarioTitle(run.against)}` : "");
  const first = simCell(tr, what);
  const small = document.createElement("div");
  small.className = "note";
  small.textContent = `${simWhen(run.created_at)} · ${run.requested_by}${run.seed !== null ? ` · ${t("sim_seed_short")} ${run.seed}` : ""}`;
  first.appendChild(small);
  simCell(tr, run.agents !== null ? formatNumber(run.agents, 0) : t("sim_people_default"), "num");
  const state = simCell(tr, t(`sim_state_${run.state}`), "sim-state");
  if (run.state === "failed") {  // the reason as the simulator said it; a cut-off run's in the page's language
    const why = document.createElement("div");
    why.className = "error";
    why.textContent = run.stage === "interrupted" ? t("sim_interrupted") : run.reason;
    state.appendChild(why);
  }
  simCell(tr).appendChild(simProgress(run));
  const report = simCell(tr);
  if (run.report_url) {
    const link = document.createElement("a");
    link.href = run.report_url;
    link.target = "_blank";
    link.rel = "noopener";
    link.className = "sim-report";
    link.textContent = t("sim_open_report");
    const kpis = document.createElement("a");
    kpis.href = run.kpis_url;
    kpis.target = "_blank";
    kpis.rel = "noopener";
    kpis.textContent = t("sim_kpis");
    report.append(link, document.createElement("br"), kpis);
  }
  const actions = simCell(tr);
  if (SIM_ACTIVE.includes(run.state)) {
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "small sim-cancel";
    cancel.textContent = t("sim_cancel");
    cancel.addEventListener("click", () => simCancel(run.id));
    actions.appendChild(cancel);
  }
  return tr;
}

function simDraw() {
  const body = document.getElementById("sim-rows");
  body.textContent = "";
  for (const run of simRuns) body.appendChild(simRow(run));
  show(document.getElementById("sim-runs"), simRuns.length > 0);
  show(document.getElementById("sim-empty"), simRuns.length === 0);
}

function simSchedule() {
  if (simTimer) clearTimeout(simTimer);
  simTimer = null;
  if (!simAllowed()) return;
  const busy = simRuns.some((r) => SIM_ACTIVE.includes(r.state));
  simTimer = setTimeout(simRefresh, busy ? SIM_POLL_MS : SIM_IDLE_MS);
}

function simFailed(err) {
  document.getElementById("sim-error").textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
}

async function simRefresh() {
  try {
    simRuns = await authorizedJSON("/v1/planner/sim/runs?limit=50");
    document.getElementById("sim-error").textContent = "";
    simDraw();
  } catch (err) {
    simFailed(err);
  }
  simSchedule();
}

async function simCancel(id) {
  try {
    const response = await authorized(`/v1/planner/sim/runs/${encodeURIComponent(id)}`, { method: "DELETE" });
    if (!response.ok && response.status !== 409) throw new Error(`HTTP ${response.status}`);
  } catch (err) {
    simFailed(err);
  }
  simRefresh();
}

function simNumber(id) {
  const raw = document.getElementById(id).value.trim();
  return raw === "" ? null : Number(raw);
}

async function simLaunch(event) {
  event.preventDefault();
  const error = document.getElementById("sim-error");
  const done = document.getElementById("sim-launched");
  error.textContent = "";
  done.textContent = "";
  delete done.dataset.i18n;
  const kind = document.getElementById("sim-kind").value;
  const body = { kind, scenario: document.getElementById("sim-scenario").value };
  if (kind === "compare") body.against = document.getElementById("sim-against").value;
  const agents = simNumber("sim-agents");
  const seed = simNumber("sim-seed");
  if (agents !== null) body.agents = agents;
  if (seed !== null) body.seed = seed;
  const key = crypto.randomUUID();  // one launch, however often the request is retried
  try {
    const response = await authorized("/v1/planner/sim/runs", {
      method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401 || response.status === 403) throw Object.assign(new Error("auth"), { auth: true });
    if (response.status !== 202) throw new Error(answer.message || `HTTP ${response.status}`);
    done.dataset.i18n = "sim_launched";  // said again in the other language when it is switched
    done.textContent = t("sim_launched");
  } catch (err) {
    error.textContent = err.auth ? t("error_auth") : `${t("sim_error_launch")}: ${err.message}`;
  }
  simRefresh();
}

async function simOpen() {
  const allowed = simAllowed();
  show(document.getElementById("sim-card"), allowed);
  if (!allowed) {
    simSchedule();
    return;
  }
  try {
    simScenarios = await authorizedJSON("/v1/planner/sim/scenarios");
    simFillScenarios(document.getElementById("sim-scenario"));
    simFillScenarios(document.getElementById("sim-against"));
    document.getElementById("sim-card").dataset.ready = "yes";
  } catch (err) {
    simFailed(err);
  }
  simRefresh();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sim-form").addEventListener("submit", simLaunch);
  document.getElementById("sim-kind").addEventListener("change", simKindChanged);
  simKindChanged();
  onSession(() => simOpen());
  onLanguage(() => {
    simFillScenarios(document.getElementById("sim-scenario"));
    simFillScenarios(document.getElementById("sim-against"));
    simDraw();
  });
  simOpen();
});
