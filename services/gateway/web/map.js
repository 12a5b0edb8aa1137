// The station-area map as SVG, drawn from /web/map.geojson (the project's own network and rail data).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

function projector(bbox, width) {
  const [west, south, east, north] = bbox;
  const kx = Math.cos((((south + north) / 2) * Math.PI) / 180);
  const scale = width / ((east - west) * kx);
  const height = (north - south) * scale;
  return { height, at: ([lon, lat]) => [(lon - west) * kx * scale, (north - lat) * scale] };
}

function pathOf(coords, project) {
  return coords.map((c, i) => `${i ? "L" : "M"}${project.at(c).map((v) => v.toFixed(1)).join(",")}`).join("");
}

// Labels go in two columns beside the map's centre and never overlap: each column is sorted by the
// height of its point and pushed apart by at least one line.
function placeLabels(points, width, lineHeight) {
  const left = points.filter((p) => p.x < width / 2).sort((a, b) => a.y - b.y);
  const right = points.filter((p) => p.x >= width / 2).sort((a, b) => a.y - b.y);
  for (const [column, x] of [[left, width * 0.04], [right, width * 0.96]]) {
    let next = -Infinity;
    for (const p of column) {
      p.labelY = Math.max(p.y, next);
      p.labelX = x;
      p.anchor = x < width / 2 ? "start" : "end";
      next = p.labelY + lineHeight;
    }
  }
  return points;
}

function drawMap(container, data, lang) {
  container.textContent = "";
  const width = 1000;
  // Labels keep about 9 px on the screen: larger in map units when the map is drawn narrow (a phone).
  const fontSize = Math.min(44, Math.max(22, (22 * 760) / Math.max(container.clientWidth, 1)));
  const project = projector(data.bbox, width);
  const root = svg("svg", { viewBox: `0 0 ${width} ${project.height.toFixed(0)}`, role: "img",
                            "aria-label": lang === "ja" ? "海老名駅周辺の地図" : "Map of the Ebina station area" });
  const rails = svg("g", { class: "rails" });
  const walks = svg("g", { class: "walkways" });
  const chokes = svg("g", { class: "chokepoints" });
  const labels = svg("g", { class: "labels" });
  const points = [];
  for (const f of data.features) {
    const p = f.properties;
    if (f.geometry.type === "LineString" && p.kind === "rail") {
      rails.appendChild(svg("path", { d: pathOf(f.geometry.coordinates, project), class: `rail rail-${p.line}` }));
    } else if (f.geometry.type === "LineString") {
      const cls = p.chokepoint ? "chokepoint" : `walk walk-${p.kind}`;
      const el = svg("path", { d: pathOf(f.geometry.coordinates, project), class: cls });
      (p.chokepoint ? chokes : walks).appendChild(el);
      if (p.chokepoint) {
        el.dataset.chokepoint = p.chokepoint;
        const [a, b] = f.geometry.coordinates.map((c) => project.at(c));
        points.push({ key: p.chokepoint, x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2,
                      name: lang === "ja" && p.name_ja ? p.name_ja : p.name });
      }
    }
  }
  for (const p of placeLabels(points, width, fontSize * 1.5)) {
    labels.appendChild(svg("line", { x1: p.x, y1: p.y, x2: p.labelX, y2: p.labelY, class: "leader" }));
    const text = svg("text", { x: p.labelX, y: p.labelY, "text-anchor": p.anchor, class: "label",
                               "font-size": fontSize.toFixed(0),
                               "data-chokepoint": p.key, "dominant-baseline": "middle" });
    text.textContent = p.name;
    labels.appendChild(text);
  }
  root.append(rails, walks, chokes, labels);
  container.appendChild(root);
  mapView = { root, labels, project, data };
  for (const name of mapOverlays.keys()) drawOverlay(name);
  return points;
}

// Layers other scripts draw over the map (live data): each is a function (group, project, data) that fills its
// own <g class="overlay overlay-NAME">, drawn between the walkways and the labels in the map's coordinates
// (project.at([lon, lat]) -> [x, y]), and drawn again whenever the map is (a language switch).
const mapOverlays = new Map();
let mapView = null;

function drawOverlay(name) {
  if (!mapView) return;
  const group = svg("g", { class: `overlay overlay-${name}`, "data-overlay": name });
  mapOverlays.get(name)(group, mapView.project, mapView.data);
  const old = mapView.root.querySelector(`g[data-overlay="${name}"]`);
  if (old) old.replaceWith(group);
  else mapView.root.insertBefore(group, mapView.labels);
}

function setMapOverlay(name, draw) {
  mapOverlays.set(name, draw);
  drawOverlay(name);
}

async function loadMap(container) {
  const response = await fetch("/web/map.geojson");
  if (!response.ok) throw new Error(`map: HTTP ${response.status}`);
  const data = await response.json();
  const draw = () => drawMap(container, data, currentLanguage);
  draw();
  onLanguage(draw);
  return data;
}
