// Small helpers the pages share: calling the gateway with the saved token, building table rows.
"use strict";

function savedToken(kind) { return sessionStorage.getItem(`citymatch.token.${kind}`) || ""; }
function saveToken(kind, token) {
  if (token) sessionStorage.setItem(`citymatch.token.${kind}`, token);
  else sessionStorage.removeItem(`citymatch.token.${kind}`);
}

async function api(path, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { headers });
  if (response.status === 401 || response.status === 403) throw Object.assign(new Error("auth"), { auth: true });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function row(cells, numeric) {
  const tr = document.createElement("tr");
  cells.forEach((value, i) => {
    const td = document.createElement("td");
    td.textContent = value;
    if (numeric && numeric.includes(i)) td.className = "num";
    tr.appendChild(td);
  });
  return tr;
}

function show(el, visible) { el.hidden = !visible; }
