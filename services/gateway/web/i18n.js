// Japanese and English for the pages: text comes from data-i18n keys; the language from the saved choice,
// else the browser's languages, else Japanese (the app is for people around Ebina first).
"use strict";

const TEXT = {
  ja: {
    lang_switch: "English",
    app_title: "海老名エネルギー・まちアプリ",
    app_lead: "あなたの電力取引と明細を確認できます。",
    dash_title: "海老名駅周辺 運用ダッシュボード",
    dash_lead: "駅周辺の歩行者ネットワークとボトルネック、各サービスの状態。",
    map_title: "海老名駅周辺の地図",
    map_note: "概略の歩行者ネットワーク（測量した道路ではありません）",
    chokepoints_title: "ボトルネック（混雑を監視する地点）",
    col_place: "場所", col_width: "幅 (m)", col_kind: "種類",
    status_title: "サービスの状態",
    status_ready: "稼働中", status_not_ready: "停止中", status_unknown: "確認できません",
    signin_title: "サインイン",
    signin_note: "アクセストークンを貼り付けてください（citymatch token --participant ... で発行）。",
    signin_button: "サインイン", signout_button: "サインアウト",
    token_label: "アクセストークン",
    energy_title: "わたしのエネルギー",
    balance: "残高", trades_title: "取引", no_trades: "取引はまだありません。",
    col_slot: "時間帯", col_with: "相手", col_kwh: "kWh", col_price: "円/kWh", col_amount: "金額 (円)",
    bought_from: "購入元", sold_to: "売却先", grid: "電力網",
    error_auth: "サインインできませんでした。トークンを確認してください。",
    error_load: "読み込めませんでした",
    ops_title: "台帳（スロット別）", ops_note: "運用者トークンで表示します。",
    col_trades: "取引数", col_energy_yen: "電力量 (円)",
    kind_corridor: "構内通路", kind_footway: "歩道・デッキ",
  },
  en: {
    lang_switch: "日本語",
    app_title: "Ebina energy and city app",
    app_lead: "Your energy trades and your statement.",
    dash_title: "Ebina station area — operations dashboard",
    dash_lead: "The walking network and chokepoints around the station, and the services' state.",
    map_title: "Map of the Ebina station area",
    map_note: "Schematic walking network (not surveyed streets)",
    chokepoints_title: "Chokepoints (where crowding is watched)",
    col_place: "Place", col_width: "Width (m)", col_kind: "Kind",
    status_title: "Services",
    status_ready: "ready", status_not_ready: "not ready", status_unknown: "cannot tell",
    signin_title: "Sign in",
    signin_note: "Paste your access token (issued with citymatch token --participant ...).",
    signin_button: "Sign in", signout_button: "Sign out",
    token_label: "Access token",
    energy_title: "My energy",
    balance: "Balance", trades_title: "Trades", no_trades: "No trades yet.",
    col_slot: "Slot", col_with: "With", col_kwh: "kWh", col_price: "yen/kWh", col_amount: "Amount (yen)",
    bought_from: "bought from", sold_to: "sold to", grid: "the grid",
    error_auth: "Could not sign in: check the token.",
    error_load: "Could not load",
    ops_title: "Ledger by slot", ops_note: "Shown with an operator token.",
    col_trades: "Trades", col_energy_yen: "Energy (yen)",
    kind_corridor: "station corridor", kind_footway: "footway or deck",
  },
};

function chooseLanguage() {
  const saved = localStorage.getItem("citymatch.lang");
  if (saved === "ja" || saved === "en") return saved;
  for (const lang of navigator.languages || [navigator.language || ""]) {
    if (lang.toLowerCase().startsWith("ja")) return "ja";
    if (lang.toLowerCase().startsWith("en")) return "en";
  }
  return "ja";
}

let currentLanguage = chooseLanguage();
const languageListeners = [];

function t(key) {
  return (TEXT[currentLanguage] && TEXT[currentLanguage][key]) || TEXT.en[key] || key;
}

function applyLanguage() {
  document.documentElement.lang = currentLanguage;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const listener of languageListeners) listener(currentLanguage);
}

function setLanguage(lang) {
  currentLanguage = lang;
  localStorage.setItem("citymatch.lang", lang);
  applyLanguage();
}

function onLanguage(listener) { languageListeners.push(listener); }

function formatNumber(value, digits) {
  const locale = currentLanguage === "ja" ? "ja-JP" : "en-GB";
  return Number(value).toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function localSlot(iso) {
  const start = new Date(iso);
  const end = new Date(start.getTime() + 30 * 60 * 1000);
  const opts = { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const day = start.toLocaleDateString(currentLanguage === "ja" ? "ja-JP" : "en-CA", { timeZone: "Asia/Tokyo" });
  return `${day} ${start.toLocaleTimeString("en-GB", opts)}–${end.toLocaleTimeString("en-GB", opts)}`;
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("lang-switch");
  if (button) button.addEventListener("click", () => setLanguage(currentLanguage === "ja" ? "en" : "ja"));
  applyLanguage();
});
