// The app's offers, live: a server-sent event stream read with fetch (so the bearer token travels in a
// header, never in a URL), the list redrawn on each event, and accept / decline sent to the gateway. The
// stream ends when the access token expires; it is opened again with the refreshed one.
"use strict";

let offerStreamId = 0;
let latestOffers = [];

function offerWhat(o) {
  const text = t(`offer_${o.offer_type}`);
  return (text || o.offer_type).replace("{n}", String(o.shift_min));
}

function offerItem(o) {
  const li = document.createElement("li");
  li.className = `offer offer-${o.state}`;
  li.dataset.offer = o.offer_id;
  li.dataset.state = o.state;
  const what = document.createElement("strong");
  what.textContent = offerWhat(o);
  const reward = document.createElement("span");
  reward.className = "reward";
  reward.textContent = `${t("offer_reward")} ${formatNumber(o.reward_yen, 0)} ${t("yen")}`;
  const details = document.createElement("small");
  const parts = [];
  if (o.shop) parts.push(`${t("offer_at")} ${o.shop}`);
  if (o.expires_at) {
    const until = new Date(o.expires_at).toLocaleTimeString(currentLanguage === "ja" ? "ja-JP" : "en-GB",
                                                            { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });
    parts.push(`${t("offer_until")} ${until}`);
  }
  parts.push(t(`state_${o.state}`));
  details.textContent = parts.join(" · ");
  li.append(what, " ", reward, document.createElement("br"), details);
  if (o.state === "offered") {
    for (const [label, accept] of [["offer_accept", true], ["offer_decline", false]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `small ${accept ? "accept" : "decline"}`;
      button.textContent = t(label);
      button.addEventListener("click", () => answerOffer(o.offer_id, accept, button));
      li.append(" ", button);
    }
  }
  if (o.code && o.state === "accepted") {
    const code = document.createElement("div");
    code.className = "code";
    code.textContent = `${t("offer_code")}: `;
    const value = document.createElement("code");
    value.textContent = o.code;
    code.appendChild(value);
    li.appendChild(code);
  }
  return li;
}

function drawOffers(offers) {
  latestOffers = offers;
  const list = document.getElementById("offer-list");
  list.textContent = "";
  for (const o of offers) list.appendChild(offerItem(o));
  show(document.getElementById("no-offers"), offers.length === 0);
}

async function answerOffer(offerId, accept, button) {
  button.disabled = true;
  const response = await authorized(`/v1/app/offers/${encodeURIComponent(offerId)}/answer`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ accept }) });
  const message = document.getElementById("offer-message");
  message.dataset.status = String(response.status);
  message.className = response.ok ? "ok" : "error";
  const body = await response.json().catch(() => ({}));
  message.textContent = response.ok ? t("offer_sent") : body.message || `HTTP ${response.status}`;
  if (!response.ok) button.disabled = false;
}

function liveState(state) {
  const el = document.getElementById("offers-live");
  el.dataset.state = state;
  el.textContent = state === "live" ? `● ${t("offers_live")}` : t("offers_reconnecting");
}

// One stream at a time: a newer call (sign-in, language change) ends the older loop.
async function followOffers() {
  const id = ++offerStreamId;
  while (id === offerStreamId && currentSession()) {
    try {
      const response = await authorized("/v1/app/offers/stream", { headers: { Accept: "text/event-stream" } });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      liveState("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done || id !== offerStreamId) { reader.cancel().catch(() => {}); break; }
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (block.includes("event: offers") && data) drawOffers(JSON.parse(data).offers);
        }
      }
    } catch (err) {
      if (err.auth) return;
    }
    if (id !== offerStreamId) return;
    liveState("reconnecting");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function startOffers() {
  const session = currentSession();
  show(document.getElementById("offers"), Boolean(session));
  if (!session) { offerStreamId++; return; }
  drawOffers(latestOffers);
  if (document.getElementById("offers-live").dataset.state !== "live") followOffers();
}

document.addEventListener("DOMContentLoaded", () => {
  onSession((session) => { if (!session) offerStreamId++; startOffers(); });
  onLanguage(() => drawOffers(latestOffers));
  startOffers();
});
