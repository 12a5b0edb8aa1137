// The market & ledger panel (operators): kWh and the clearing price per slot (a bar chart in plain SVG with the
// price as a line), the renewable share, the ledger's totals, its verification and reconciliation, and the dead
// letters per topic with their reasons. Data through operatorJSON (live.js).
"use strict";

const MARKET_REFRESH_MS = 10000;
const AUDIT_EVERY = 6;   // verify and reconcile recompute the whole ledger: once a minute, not every refresh
const CHART_SLOTS = 24;

let marketRound = 0;
let audit = { verify: null, reconcile: null };
let marketView = null;   // {slots, deadLetters} of the last refresh

function slotKey(iso) { return new Date(iso).getTime(); }

// The ledger's slot totals and the market's slots side by side, newest first.
function mergeSlots(ledger, market) {
  const slots = new Map();
  for (const s of ledger) if (s.slot) slots.set(slotKey(s.slot), { slot: s.slot, ledger: s, market: null });
  for (const m of market) {
    const key = slotKey(m.slot);
    if (slots.has(key)) slots.get(key).market = m;
    else slots.set(key, { slot: m.slot, ledger: null, market: m });
  }
  return [...slots.entries()].sort((a, b) => b[0] - a[0]).map((x) => x[1]);
}

function slotKwh(s) { return Number(s.ledger ? s.ledger.kwh : s.market ? s.market.kwh : 0); }
function slotPrice(s) { return s.market && s.market.price_yen_per_kwh !== null ? Number(s.market.price_yen_per_kwh) : null; }
function slotRenewable(s) { return s.market && s.market.renewable_share !== null ? s.market.renewable_share : null; }

function shortSlot(iso) {
  return new Date(iso).toLocaleTimeString("en-GB", { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit",
                                                     hourCycle: "h23" });
}

function niceMax(value) {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

function chartText(x, y, text, cls, anchor) {
  const el = svg("text", { x: x.toFixed(1), y: y.toFixed(1), class: cls, "text-anchor": anchor || "middle" });
  el.textContent = text;
  return el;
}

function drawMarketChart(slots) {
  const box = document.getElementById("market-chart");
  box.textContent = "";
  const shown = slots.slice(0, CHART_SLOTS).reverse();
  if (!shown.length) return;
  const W = 720, H = 240, left = 52, right = 60, top = 30, bottom = 30;
  const plotW = W - left - right, plotH = H - top - bottom;
  const maxKwh = niceMax(Math.max(...shown.map(slotKwh)));
  const prices = shown.map(slotPrice).filter((p) => p !== null);
  const maxPrice = niceMax(prices.length ? Math.max(...prices) : 1);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "market-chart",
                            "aria-label": t("mkt_chart_label") });
  const band = plotW / shown.length;
  const y = (kwh) => top + plotH - (plotH * kwh) / maxKwh;
  const yp = (price) => top + plotH - (plotH * price) / maxPrice;
  for (const frac of [0, 0.5, 1]) {
    const gy = top + plotH - plotH * frac;
    root.appendChild(svg("line", { x1: left, x2: W - right, y1: gy.toFixed(1), y2: gy.toFixed(1), class: "grid-line" }));
    root.appendChild(chartText(left - 6, gy + 4, formatNumber(maxKwh * frac, maxKwh < 10 ? 1 : 0), "axis", "end"));
    root.appendChild(chartText(W - right + 6, gy + 4, formatNumber(maxPrice * frac, 0), "axis price-axis", "start"));
  }
  root.appendChild(chartText(left - 6, 14, "kWh", "axis unit", "end"));
  root.appendChild(chartText(W - right + 6, 14, t("mkt_yen_per_kwh"), "axis price-axis unit", "start"));
  const points = [];
  shown.forEach((s, i) => {
    const w = Math.min(band * 0.7, 48), kwh = slotKwh(s), x = left + i * band + (band - w) / 2;
    const bar = svg("rect", { x: x.toFixed(1), y: y(kwh).toFixed(1), width: w.toFixed(1),
                              height: (top + plotH - y(kwh)).toFixed(1), class: "bar", "data-slot": s.slot });
    const tip = svg("title", {});
    const share = slotRenewable(s);
    const price = slotPrice(s);
    tip.textContent = `${localSlot(s.slot)}: ${formatNumber(kwh, 3)} kWh`
      + `${price !== null ? ` · ${formatNumber(price, 2)} ${t("mkt_yen_per_kwh")}` : ""}`
      + `${share !== null ? ` · ${t("mkt_col_renewable")} ${formatNumber(100 * share, 0)} %` : ""}`;
    bar.appendChild(tip);
    root.appendChild(bar);
    if (share) {
      const green = kwh * share;
      root.appendChild(svg("rect", { x: x.toFixed(1), y: y(green).toFixed(1), width: w.toFixed(1),
                                     height: (top + plotH - y(green)).toFixed(1), class: "bar-renewable" }));
    }
    if (price !== null) points.push([x + w / 2, yp(price), price, s.slot]);
    if (i % Math.max(1, Math.ceil(shown.length / 8)) === 0) {
      root.appendChild(chartText(x + w / 2, H - bottom + 16, shortSlot(s.slot), "axis"));
    }
  });
  if (points.length > 1) {
    root.appendChild(svg("polyline", { points: points.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(" "),
                                       class: "price-line" }));
  }
  for (const [px, py, price, slot] of points) {
    root.appendChild(svg("circle", { cx: px.toFixed(1), cy: py.toFixed(1), r: 3.5, class: "price-dot",
                                     "data-price": price, "data-slot": slot }));
  }
  box.appendChild(root);
  const key = document.createElement("p");
  key.className = "note chart-key";
  for (const [cls, text] of [["bar", t("mkt_key_kwh")], ["bar-renewable", t("mkt_key_renewable")],
                             ["price-line", t("mkt_key_price")]]) {
    const swatch = document.createElement("span");
    swatch.className = `swatch key-${cls}`;
    key.append(swatch, document.createTextNode(text));
  }
  box.appendChild(key);
}

function drawMarketRows(slots) {
  const body = document.getElementById("market-slot-rows");
  body.textContent = "";
  for (const s of slots) {
    const l = s.ledger, m = s.market, share = slotRenewable(s), price = slotPrice(s);
    const tr = row([localSlot(s.slot), l ? formatNumber(l.trades, 0) : m ? formatNumber(m.trades, 0) : "-",
                    l ? formatNumber(l.kwh, 3) : "-", m ? formatNumber(m.kwh, 3) : "-",
                    price !== null ? formatNumber(price, 2) : "-",
                    share !== null ? `${formatNumber(100 * share, 0)} %` : "-",
                    l ? formatNumber(l.energy_yen, 2) : "-"], [1, 2, 3, 4, 5, 6]);
    tr.dataset.slot = s.slot;
    if (m && m.clearing) tr.title = `${m.clearing.pricing} · ${t("mkt_orders")} ${m.clearing.orders}`;
    body.appendChild(tr);
  }
  show(document.getElementById("market-empty"), slots.length === 0);
}

function drawChecks(slots, deadLetters) {
  const list = document.getElementById("market-checks");
  list.textContent = "";
  const item = (name, ok, text) => {
    const li = document.createElement("li");
    li.dataset.check = name;
    li.className = ok === null ? "unknown" : ok ? "ok" : "down";
    li.textContent = text;
    list.appendChild(li);
  };
  const v = audit.verify, r = audit.reconcile;
  item("verify", v ? v.ok : null, v ? `${t("mkt_verify")}: ${v.ok ? t("mkt_ok") : t("mkt_failed")} · `
                                      + t("mkt_verify_counts").replace("{entries}", formatNumber(v.entries, 0))
                                        .replace("{signatures}", formatNumber(v.signatures, 0))
                                        .replace("{anchors}", formatNumber(v.anchors, 0))
                                      + `${v.first_bad ? ` · ${v.summary}` : ""}`
                                    : `${t("mkt_verify")}: ${t("status_unknown")}`);
  if (v) list.lastChild.title = v.summary;
  item("reconcile", r ? r.ok : null,
       r ? `${t("mkt_reconcile")}: ${r.ok ? t("mkt_ok") : t("mkt_failed")}`
           + `${r.problems && r.problems.length ? ` · ${r.problems.join("; ")}` : ""}`
           + `${r.market && !r.market.ok ? ` · ${t("mkt_market_differs")}` : ""}`
         : `${t("mkt_reconcile")}: ${t("status_unknown")}`);
  if (deadLetters) {
    item("dead-letters", deadLetters.total === 0,
         `${t("dlq_title")}: ${formatNumber(deadLetters.total, 0)}`);
  }
  const totals = document.getElementById("market-totals");
  totals.textContent = "";
  const ledgerSlots = slots.filter((s) => s.ledger).map((s) => s.ledger);
  const sum = (k) => ledgerSlots.reduce((acc, s) => acc + Number(s[k]), 0);
  for (const [value, what] of [[formatNumber(sum("trades"), 0), t("mkt_total_trades")],
                               [formatNumber(sum("kwh"), 3), t("mkt_total_kwh")],
                               [formatNumber(sum("energy_yen"), 0), t("mkt_total_yen")]]) {
    const div = document.createElement("div");
    const big = document.createElement("div");
    big.className = "value";
    big.textContent = value;
    const label = document.createElement("div");
    label.className = "what";
    label.textContent = what;
    div.append(big, label);
    totals.appendChild(div);
  }
}

function drawDeadLetters(deadLetters) {
  const body = document.getElementById("dead-letter-rows");
  body.textContent = "";
  for (const topic of deadLetters.topics) {
    const tr = row([topic.topic, formatNumber(topic.count, 0), ""], [1]);
    tr.dataset.topic = topic.topic;
    const list = document.createElement("ul");
    list.className = "dead-letters";
    for (const d of topic.latest) {
      const li = document.createElement("li");
      const when = document.createElement("time");
      when.textContent = d.at ? tokyoTime(d.at, true) : "-";
      if (d.at) when.dateTime = d.at;
      const who = [d.kind, d.service].filter(Boolean).join(", ");
      li.append(when, document.createTextNode(` ${d.reason}${who ? ` (${who})` : ""}`));
      list.appendChild(li);
    }
    tr.cells[2].appendChild(list);
    body.appendChild(tr);
  }
  show(document.getElementById("dead-letters-empty"), deadLetters.topics.length === 0);
}

function drawMarket() {
  if (!marketView) return;
  drawChecks(marketView.slots, marketView.deadLetters);
  drawMarketChart(marketView.slots);
  drawMarketRows(marketView.slots);
  if (marketView.deadLetters) drawDeadLetters(marketView.deadLetters);
}

async function refreshMarket() {
  const signedIn = isOperator();
  show(document.getElementById("market-signin"), !signedIn);
  show(document.getElementById("market"), signedIn);
  if (!signedIn) return;
  const withAudit = marketRound % AUDIT_EVERY === 0;
  marketRound += 1;
  const asks = [operatorJSON("/v1/operator/ledger/slots"), operatorJSON("/v1/operator/market/slots?limit=48"),
                operatorJSON("/v1/operator/dead-letters")];
  if (withAudit) asks.push(operatorJSON("/v1/operator/ledger/verify"), operatorJSON("/v1/operator/ledger/reconcile"));
  const [ledger, market, dead, verify, reconcile] = await Promise.allSettled(asks);
  const failed = [ledger, market, dead, verify, reconcile].filter((x) => x && x.status === "rejected");
  if (withAudit) {
    audit = { verify: verify.status === "fulfilled" ? verify.value : null,
              reconcile: reconcile.status === "fulfilled" ? reconcile.value : null };
  }
  const error = document.getElementById("market-error");
  error.textContent = failed.length
    ? (failed.some((x) => x.reason.auth) ? t("error_auth") : `${t("error_load")}: ${failed[0].reason.message}`)
    : "";
  marketView = {
    slots: mergeSlots(ledger.status === "fulfilled" ? ledger.value : [],
                      market.status === "fulfilled" ? market.value : []).slice(0, 48),
    deadLetters: dead.status === "fulfilled" ? dead.value : null,
  };
  drawMarket();
  document.getElementById("market-card").dataset.ready = String(marketRound);
}

document.addEventListener("DOMContentLoaded", () => {
  onLanguage(drawMarket);
  onSession(() => { marketRound = 0; refreshMarket(); });
  refreshMarket();
  setInterval(refreshMarket, MARKET_REFRESH_MS);
});
