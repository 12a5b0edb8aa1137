// Small helpers the pages share: building table rows, showing and hiding.
"use strict";

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
