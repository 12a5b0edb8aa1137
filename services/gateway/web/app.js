// The app for people around Ebina: sign in (with an access token for now), then balance and trades.
"use strict";

function counterparty(trade) {
  const other = trade.role === "buyer" ? trade.seller : trade.buyer;
  const name = other === "grid" ? t("grid") : other;
  return `${trade.role === "buyer" ? t("bought_from") : t("sold_to")} ${name}`;
}

async function loadEnergy() {
  const token = savedToken("app");
  show(document.getElementById("signin"), !token);
  show(document.getElementById("energy"), Boolean(token));
  const error = document.getElementById("energy-error");
  error.textContent = "";
  if (!token) return;
  try {
    const [balance, trades] = await Promise.all([api("/v1/ledger/balance", token), api("/v1/energy/trades", token)]);
    document.getElementById("who").textContent = balance.participant;
    document.getElementById("balance-yen").textContent = `${formatNumber(balance.yen, 2)} ${currentLanguage === "ja" ? "円" : "yen"}`;
    document.getElementById("balance-kwh").textContent = `${formatNumber(balance.kwh, 3)} kWh`;
    const body = document.getElementById("trade-rows");
    body.textContent = "";
    for (const trade of trades) {
      body.appendChild(row([localSlot(trade.slot), counterparty(trade), formatNumber(trade.kwh, 3),
                            formatNumber(trade.price, 2), formatNumber(trade.amount_yen, 2)], [2, 3, 4]));
    }
    show(document.getElementById("no-trades"), trades.length === 0);
  } catch (err) {
    if (err.auth) { saveToken("app", ""); show(document.getElementById("signin"), true); }
    error.textContent = err.auth ? t("error_auth") : `${t("error_load")}: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken("app", document.getElementById("app-token").value.trim());
    loadEnergy();
  });
  document.getElementById("signout").addEventListener("click", () => { saveToken("app", ""); loadEnergy(); });
  onLanguage(loadEnergy);
  loadEnergy();
});
