// The app's session: sign up, sign in (OAuth2 password form), refresh before the access token expires,
// sign out. Tokens live in this tab's sessionStorage only (gone when the tab closes), never in a cookie.
"use strict";

// One session per page kind: <body data-session="dashboard"> keeps its own (default: the app's).
const SESSION_KEY = `citymatch.session.${(document.body && document.body.dataset.session) || "app"}`;
let refreshTimer = null;
const sessionListeners = [];

function currentSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null"); } catch (err) { return null; }
}

function storeSession(answer) {
  // The expiry is counted from when the answer arrived (by this device's clock), never by comparing the
  // server's expires_at with a clock that may be off: a skewed clock would otherwise refresh in a loop.
  if (answer) sessionStorage.setItem(SESSION_KEY, JSON.stringify({ ...answer, received_at: Date.now() }));
  else sessionStorage.removeItem(SESSION_KEY);
  scheduleRefresh();
  for (const listener of sessionListeners) listener(answer);
}

function onSession(listener) { sessionListeners.push(listener); }

async function postJSON(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                       body: JSON.stringify(body) });
  return { status: response.status, body: await response.json().catch(() => ({})),
           retryAfter: response.headers.get("Retry-After") };
}

async function signUp(username, password) { return postJSON("/v1/auth/signup", { username, password }); }

async function signIn(username, password) {
  const form = new URLSearchParams({ grant_type: "password", username, password });
  const response = await fetch("/v1/auth/token", { method: "POST", body: form });
  const body = await response.json().catch(() => ({}));
  if (response.ok) storeSession(body);
  return { status: response.status, body, retryAfter: response.headers.get("Retry-After") };
}

async function refreshSession() {
  const session = currentSession();
  if (!session) return false;
  const answer = await postJSON("/v1/auth/refresh", { refresh_token: session.refresh_token });
  storeSession(answer.status === 200 ? answer.body : null);
  return answer.status === 200;
}

async function signOut() {
  const session = currentSession();
  storeSession(null);
  if (session) await postJSON("/v1/auth/signout", { refresh_token: session.refresh_token }).catch(() => null);
}

// Refresh a little before expiry: a minute ahead, or a fifth of the lifetime for short-lived tokens.
function scheduleRefresh() {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = null;
  const session = currentSession();
  if (!session) return;
  const left = session.received_at + session.expires_in * 1000 - Date.now();
  const lead = Math.min(60_000, (session.expires_in * 1000) / 5);
  refreshTimer = setTimeout(() => { refreshSession(); }, Math.max(0, left - lead));
}

// GET with the access token; one refresh and retry on a 401 (the token may have lapsed in a sleeping tab).
async function authorized(path, options = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const session = currentSession();
    if (!session) throw Object.assign(new Error("auth"), { auth: true });
    const headers = { ...(options.headers || {}), Authorization: `Bearer ${session.access_token}` };
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401 || attempt === 1 || !(await refreshSession())) return response;
  }
  throw Object.assign(new Error("auth"), { auth: true });
}

async function authorizedJSON(path) {
  const response = await authorized(path);
  if (response.status === 401 || response.status === 403) throw Object.assign(new Error("auth"), { auth: true });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

document.addEventListener("DOMContentLoaded", scheduleRefresh);
