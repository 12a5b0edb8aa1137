// Japanese and English for the pages: text comes from data-i18n keys; the language from the saved choice,
// else the browser's languages, else Japanese (the app is for people around Ebina first).
"use strict";

const TEXT = {
  ja: {
    lang_switch: "English",
    app_title: "海老名エネルギー・まちアプリ",
    app_lead: "あなたの電力取引と明細、再エネ証書を確認できます。台帳の記録はこの端末で検証します。",
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
    username_label: "ユーザー名", password_label: "パスワード",
    signup_title: "はじめての方：登録する",
    signup_note: "ユーザー名は英小文字・数字（3文字以上）。パスワードは10文字以上、5種類以上の文字で。",
    signup_button: "登録", signup_done: "登録しました。上のフォームからサインインしてください。",
    error_credentials: "ユーザー名またはパスワードが違います。",
    error_wait: "試行が多すぎます。{s}秒後にもう一度お試しください。",
    bill_title: "ご利用明細", bill_bought: "購入電力量", bill_sold: "売電量", bill_energy: "電力量料金（−はお支払い）",
    bill_wheeling: "託送料金", bill_fee: "プラットフォーム手数料", bill_to_pay: "お支払い合計",
    bill_to_receive: "お受け取り合計", bill_certificates: "再エネ証書", yen: "円",
    certs_title: "再エネ証書（地元電源の証明）", no_certs: "再エネ証書はまだありません。",
    certs_note: "証書を使用すると、選んだ再エネ目標に一度だけ充当されます（二重には数えられません）。",
    col_source: "発電元", col_state: "状態", cert_active: "未使用", cert_retired: "使用済み",
    retire_button: "使用する", retire_target_label: "充当する再エネ目標", retire_need_target: "目標を入力してください。",
    retire_done: "台帳に記録しました", retire_requested: "受け付けました（台帳への記録待ち）",
    retire_missing: "見つかりません", retire_conflict: "すでに使用済みです",
    proof_verified: "検証済み", proof_pending: "未アンカー（まだ検証できません）", proof_failed: "検証失敗",
    proof_checking: "確認中…", anchor: "アンカー",
    prefs_title: "設定", pref_notifications: "お知らせを受け取る", pref_offers_opt_out: "お得なオファーを受け取らない",
    pref_quiet: "お知らせを控える時間", pref_ev_profile: "EVの充電方針", ev_economy: "エコノミー（安く）",
    ev_green: "グリーン（再エネ優先）", ev_price_first: "価格優先", pref_home_area: "自宅のエリア",
    pref_work_area: "勤務先のエリア", prefs_save: "保存", prefs_saved: "保存しました。",
    prefs_none: "このアカウントには設定がありません。",
    offers_title: "あなたへのオファー", offers_note: "受けると特典がもらえます。受けたオファーはお店でコードを見せてください。",
    no_offers: "いまオファーはありません。", offers_live: "ライブ更新中", offers_reconnecting: "再接続中…",
    offer_shift_later: "{n}分遅く出発する", offer_shift_earlier: "{n}分早く出発する", offer_other_exit: "別の改札・出口を使う",
    offer_other_mall: "別のショッピングセンターに寄る", offer_shared_mobility: "シェアサイクル・カーシェアで移動する",
    offer_ev_charge_now: "いまEVを充電する（再エネが余っています）", offer_reward: "特典", offer_at: "場所",
    offer_until: "期限", offer_accept: "受ける", offer_decline: "見送る", offer_code: "お店で見せるコード",
    state_offered: "回答待ち", state_accepted: "受けました", state_declined: "見送りました", state_expired: "期限切れ",
    state_redeemed: "特典を受け取りました", offer_sent: "回答を送りました",
    target_title: "わたしの再エネ目標", target_share: "購入電力に占める再エネの目標",
    target_a: "A 自家発電（同じ敷地）", target_b: "B 地域の再エネから購入", target_c: "C 充当した再エネ証書",
    target_rest: "不足分", target_met: "目標を達成しています。",
    target_short: "目標 {goal} kWh まで、あと {kwh} kWh（再エネ証書の充当で補えます）。",
    payments_title: "その他の入出金", col_what: "内容", no_payments: "その他の入出金はありません。",
    payment_reward: "オファーの特典", payment_fare: "乗車の運賃", payment_charging_bill: "EVの充電",
    payment_delivery_fee: "配送料",
    car_title: "わたしのクルマ", car_note: "充電は出発までに必要な分を、地域の太陽光が余る時間に優先して行います（ドライバー優先）。",
    no_cars: "登録されたクルマはありません。", car_mode: "充電モード", mode_departure: "出発までに（再エネ優先）",
    mode_pv: "太陽光のみ", mode_minpv: "最低限＋太陽光", mode_now: "いますぐ", mode_off: "充電しない",
    car_waiting: "充電計画を作成中…", car_planned: "{kwh} kWh を充電予定（うち太陽光 {share} %）、費用 {yen} 円",
    car_shortfall: "{depart} の出発には {kwh} kWh 足りません（{later} なら間に合います）。",
    car_override: "このモードは「出発までに（再エネ優先）」より {yen} 円多くかかります。",
    car_charger: "充電器", car_solar: "太陽光", car_mode_sent: "モードを変更しました。計画を更新します。",
    campaigns_title: "インセンティブ・キャンペーン（予算と実績）",
    campaigns_note: "運用者トークンで表示します。予算は1日の計画（期待支出の上限）、期待支出は送付済みオファーの受諾率×報酬（支払済み・受諾済みを含む）、実支出は引き換え済みの報酬です。",
    campaigns_units: "削減量の単位：時間帯の平均的な1分間の通行1人分。「受諾分」は受諾されたオファーがそのまま実行された場合の削減量です。",
    campaigns_none: "キャンペーンはまだありません。",
    col_campaign: "キャンペーン", col_budget_yen: "予算 (円)", col_planned: "計画", col_spent_expected: "期待支出",
    col_spent_realised: "実支出", col_realised_share: "計画比", col_offers: "オファー", col_sent: "送付",
    col_accepted: "受諾", col_redeemed: "引き換え", col_load_removed: "混雑の削減量", col_expected: "期待値",
    col_if_accepted: "受諾分", col_ledger_balance: "台帳残高 / 入金 (円)", col_guard: "上限保証額",
    col_expected_planned: "計画時の期待費用",
    goal_cut_load: "混雑緩和", goal_lift_footfall: "来訪促進", goal_fill_chargers: "充電器の稼働",
    campaign_stopped: "停止済み", campaign_not_on_ledger: "台帳に未記録",
    anomalies_title: "まちの異変（人流と店舗の販売・在庫）", anomalies_note: "運用者トークンで表示します。新しい順。",
    anomalies_none: "異変は見つかっていません。", col_when: "日時", col_from: "情報源", col_evidence: "根拠",
    source_crowd: "人流", source_shops: "店舗", anomaly_surge: "急増", anomaly_drop: "急減", anomaly_stockout: "品切れ",
    anomaly_waste: "大量廃棄", anomaly_shift: "需要の移動（オフィス→住宅地）",
    evidence_crowd: "1分間に {observed} 人（ふだんは {expected} 人、ロバストz {z}）",
    evidence_surge: "{observed} 個販売（直近14日の中央値 {expected} 個、ロバストz {z}）",
    evidence_stockout: "閉店時に在庫なし（ふだんの1日の販売 {expected} 個）",
    evidence_waste: "{observed} 個を廃棄（直近14日の中央値 {expected} 個、ロバストz {z}）",
    evidence_shift: "住宅地の店舗の販売シェア {observed}（直近14日の中央値 {expected}、ロバストz {z}）",
    sim_title: "シミュレーター",
    sim_note: "海老名駅周辺の人流シミュレーションを実行し、進み具合を見て報告書を開きます。プランナーまたは運用者としてサインインすると表示されます。",
    sim_kind: "種類", sim_kind_scenario: "シナリオの1日（報告書）",
    sim_kind_campaign_replay: "キャンペーンの再現（小田急線改札の朝のピーク、キャンペーンなしの日と比較）",
    sim_kind_compare: "2つのシナリオの比較", sim_scenario: "シナリオ", sim_against: "比較するシナリオ（B）",
    sim_agents: "人数（空欄：実際の利用者数）", sim_seed: "乱数シード（空欄：シナリオの値）", sim_seed_short: "シード",
    sim_launch: "実行", sim_launched: "受け付けました。順番に実行します。", sim_error_launch: "実行できませんでした",
    sim_runs_title: "実行一覧（新しい順）", sim_none: "まだ実行はありません。",
    sim_col_run: "実行内容", sim_col_people: "人数", sim_col_state: "状態", sim_col_progress: "進み具合",
    sim_col_report: "報告書", sim_people_default: "実際の利用者数", sim_vs: "対",
    sim_state_queued: "待機中", sim_state_running: "実行中", sim_state_done: "完了", sim_state_failed: "失敗",
    sim_state_cancelled: "取り消し済み",
    sim_stage_waiting: "順番待ち", sim_stage_starting: "シミュレーターを起動中", sim_stage_preparing: "準備中",
    sim_stage_simulating: "歩行を計算中", sim_stage_campaign_rounds: "オファーの配信ラウンド",
    sim_stage_writing_report: "報告書を作成中", sim_stage_interrupted: "中断",
    sim_interrupted: "中断：実行中にゲートウェイが停止しました",
    sim_minutes: "{done} / {total} 分", sim_open_report: "報告書を開く", sim_kpis: "KPI（JSON）", sim_cancel: "取り消す",
  },
  en: {
    lang_switch: "日本語",
    app_title: "Ebina energy and city app",
    app_lead: "Your energy trades, your bill and your renewable certificates, each checked against the ledger in this browser.",
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
    username_label: "Username", password_label: "Password",
    signup_title: "New here? Create an account",
    signup_note: "Usernames: 3 or more of a-z and 0-9. Passwords: at least 10 characters, 5 different ones.",
    signup_button: "Sign up", signup_done: "Account created: sign in with the form above.",
    error_credentials: "Wrong username or password.",
    error_wait: "Too many attempts: try again in {s} s.",
    bill_title: "Your bill", bill_bought: "Energy bought", bill_sold: "Energy sold",
    bill_energy: "Energy (− = you pay)", bill_wheeling: "Grid (wheeling) fees", bill_fee: "Platform fee",
    bill_to_pay: "Total to pay", bill_to_receive: "Total to receive", bill_certificates: "Renewable certificates",
    yen: "yen",
    certs_title: "Renewable certificates (local origin)", no_certs: "No certificates yet.",
    certs_note: "Retiring a certificate counts its kWh toward one renewable target, once.",
    col_source: "Source", col_state: "State", cert_active: "not retired", cert_retired: "retired for",
    retire_button: "Retire", retire_target_label: "Renewable target to retire against",
    retire_need_target: "Enter a target.",
    retire_done: "Retired on the ledger", retire_requested: "Requested; not on the ledger yet",
    retire_missing: "Not found", retire_conflict: "Already retired",
    proof_verified: "verified", proof_pending: "not yet anchored", proof_failed: "proof failed",
    proof_checking: "checking…", anchor: "anchor",
    prefs_title: "Preferences", pref_notifications: "Send me notifications", pref_offers_opt_out: "No offers, please",
    pref_quiet: "Quiet hours", pref_ev_profile: "EV charging profile", ev_economy: "Economy (cheapest)",
    ev_green: "Green (renewables first)", ev_price_first: "Price first", pref_home_area: "Home area",
    pref_work_area: "Work area", prefs_save: "Save", prefs_saved: "Saved.",
    prefs_none: "This account has no preferences.",
    offers_title: "Offers for you", offers_note: "Take one and earn its reward; show the code at the shop once you have accepted.",
    no_offers: "No offers right now.", offers_live: "live", offers_reconnecting: "reconnecting…",
    offer_shift_later: "Leave {n} minutes later", offer_shift_earlier: "Leave {n} minutes earlier",
    offer_other_exit: "Use another gate or exit", offer_other_mall: "Stop at another shopping centre",
    offer_shared_mobility: "Go by shared bike or car", offer_ev_charge_now: "Charge your EV now (solar to spare)",
    offer_reward: "reward", offer_at: "at", offer_until: "until", offer_accept: "Accept", offer_decline: "Decline",
    offer_code: "code to show at the shop", state_offered: "awaiting your answer", state_accepted: "accepted",
    state_declined: "declined", state_expired: "expired", state_redeemed: "reward received", offer_sent: "Answer sent",
    target_title: "My renewable target", target_share: "Renewable share of what I buy",
    target_a: "A on-site (same site)", target_b: "B bought from local renewables", target_c: "C certificates retired",
    target_rest: "still to cover", target_met: "Target met.",
    target_short: "{kwh} kWh still to cover of a {goal} kWh target (retire certificates to cover it).",
    payments_title: "Other payments", col_what: "what", no_payments: "No other payments.",
    payment_reward: "offer reward", payment_fare: "ride fare", payment_charging_bill: "EV charging",
    payment_delivery_fee: "delivery fee",
    car_title: "My car", car_note: "Charging covers what each departure needs, at the hours local solar is to spare (driver first).",
    no_cars: "No car registered.", car_mode: "Charging mode", mode_departure: "By departure (greenest)",
    mode_pv: "Solar only", mode_minpv: "Minimum + solar", mode_now: "Now", mode_off: "Off",
    car_waiting: "Planning the charge…", car_planned: "{kwh} kWh to charge ({share} % solar), costing {yen} yen",
    car_shortfall: "The {depart} departure lacks {kwh} kWh (leaving at {later} would work).",
    car_override: "This mode costs {yen} yen more than charging by departure at the greenest hours.",
    car_charger: "charger", car_solar: "solar", car_mode_sent: "Mode changed; re-planning.",
    campaigns_title: "Incentive campaigns — budget and results",
    campaigns_note: "Shown with an operator token. Planned is the day's budget (the most it may expect to spend); spent, expected is acceptance × reward of the offers sent (paid and accepted included); spent, realised is the rewards paid on redemption.",
    campaigns_units: "Load removed in goal units: one crossing of an average minute of the goal's window. \"If accepted\" counts the offers accepted as if each were carried out.",
    campaigns_none: "No campaigns yet.",
    col_campaign: "Campaign", col_budget_yen: "Budget (yen)", col_planned: "Planned", col_spent_expected: "Spent, expected",
    col_spent_realised: "Spent, realised", col_realised_share: "Of plan", col_offers: "Offers", col_sent: "Sent",
    col_accepted: "Accepted", col_redeemed: "Redeemed", col_load_removed: "Load removed", col_expected: "Expected",
    col_if_accepted: "If accepted", col_ledger_balance: "Ledger balance / funded (yen)", col_guard: "Guard",
    col_expected_planned: "Expected cost as planned",
    goal_cut_load: "cut the load at", goal_lift_footfall: "lift footfall at", goal_fill_chargers: "fill the chargers at",
    campaign_stopped: "stopped", campaign_not_on_ledger: "not on the ledger",
    anomalies_title: "The city's eye: crowds, shops' sales and stock", anomalies_note: "Shown with an operator token. Newest first.",
    anomalies_none: "No anomalies found.", col_when: "when", col_from: "from", col_evidence: "evidence",
    source_crowd: "crowd", source_shops: "shops", anomaly_surge: "surge", anomaly_drop: "drop", anomaly_stockout: "stock-out",
    anomaly_waste: "waste", anomaly_shift: "demand moving (offices to homes)",
    evidence_crowd: "{observed} walkers in a minute against {expected} usually (robust z {z})",
    evidence_surge: "sold {observed} against a median of {expected} over the last 14 days (robust z {z})",
    evidence_stockout: "no stock left at closing while the usual day sells {expected}",
    evidence_waste: "wrote off {observed} against a median of {expected} over the last 14 days (robust z {z})",
    evidence_shift: "home-area shops' share {observed} against a median of {expected} over the last 14 days (robust z {z})",
    sim_title: "Simulator",
    sim_note: "Run the Ebina station-area crowd simulator, follow its progress and open its report. Shown to planners and operators once signed in.",
    sim_kind: "Kind", sim_kind_scenario: "A scenario's day (report)",
    sim_kind_campaign_replay: "Campaign replay (Odakyu gates, morning peak, against the day without it)",
    sim_kind_compare: "Two scenarios compared", sim_scenario: "Scenario", sim_against: "Scenario to compare with (B)",
    sim_agents: "People (empty: the real ridership)", sim_seed: "Random seed (empty: the scenario's)", sim_seed_short: "seed",
    sim_launch: "Run", sim_launched: "Queued: runs start in turn.", sim_error_launch: "Could not launch",
    sim_runs_title: "Runs (newest first)", sim_none: "No runs yet.",
    sim_col_run: "Run", sim_col_people: "People", sim_col_state: "State", sim_col_progress: "Progress",
    sim_col_report: "Report", sim_people_default: "real ridership", sim_vs: "vs",
    sim_state_queued: "queued", sim_state_running: "running", sim_state_done: "done", sim_state_failed: "failed",
    sim_state_cancelled: "cancelled",
    sim_stage_waiting: "waiting its turn", sim_stage_starting: "starting the simulator", sim_stage_preparing: "preparing",
    sim_stage_simulating: "walking the day", sim_stage_campaign_rounds: "rounds of offers",
    sim_stage_writing_report: "writing the report", sim_stage_interrupted: "interrupted",
    sim_interrupted: "interrupted: the gateway stopped while it ran",
    sim_minutes: "{done} / {total} min", sim_open_report: "Open the report", sim_kpis: "KPIs (JSON)", sim_cancel: "Cancel",
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
