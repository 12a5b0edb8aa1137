// Operators close a co-owned EV group's month: its costs are split and each member's bill goes on the ledger
// (the mobility service answers on the bus; the bills appear in the members' statements). Sending the same
// month again is harmless: the group and month name one split.
"use strict";

function lastMonth() {
  const now = new Date(new Date().toLocaleString("en-US", { timeZone: "Asia/Tokyo" }));
  const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

async function closeCoownedMonth(event) {
  event.preventDefault();
  const message = document.getElementById("coclose-message");
  const group = document.getElementById("coclose-group").value.trim();
  const period = document.getElementById("coclose-period").value;
  message.className = "";
  message.textContent = "";
  try {
    const response = await authorized(`/v1/operator/coowned/${encodeURIComponent(group)}/close`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ period }) });
    const body = await response.json().catch(() => ({}));
    message.className = response.status === 202 ? "ok" : "error";
    message.textContent = response.status === 202
      ? t("coclose_sent").replace("{group}", group).replace("{period}", period)
      : `${t("error_load")}: HTTP ${response.status} ${body.message || ""}`;
  } catch (err) {
    message.className = "error";
    message.textContent = `${t("error_load")}: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const period = document.getElementById("coclose-period");
  if (!period) return;
  period.value = lastMonth();
  document.getElementById("coclose-form").addEventListener("submit", closeCoownedMonth);
});
