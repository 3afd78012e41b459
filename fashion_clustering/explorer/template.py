"""The explorer's ``index.html``: plain HTML, CSS and JavaScript, no external file but the
page's own ``data.js`` and image sheets. The map is drawn pixel by pixel into one canvas
(70,000 points in a few milliseconds), hovering finds the nearest point through a grid
index; the views list images as tiles of the sprite sheets, at the data's height and width.
Without labels (``classes`` null) the page leaves out the confusion view and the colourings
by class, names clusters by number, and finds disagreements through the matching of the
two methods' clusters."""

PAGE_HTML = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>clustering: explorer</title>
<style>
body { font: 14px/1.35 system-ui, sans-serif; margin: 12px; color: #222; }
h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 14px 0 6px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f3f3f3; } #params { color: #555; margin: 6px 0; }
#controls { margin: 8px 0; display: flex; gap: 16px; flex-wrap: wrap; align-items: center; }
#mapbox { position: relative; width: 100%; height: 620px; border: 1px solid #bbb; }
#map { width: 100%; height: 100%; cursor: crosshair; display: block; }
#legend { display: flex; flex-wrap: wrap; gap: 10px; margin: 4px 0; }
#legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; background: var(--c); }
#tooltip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #888; padding: 6px;
           box-shadow: 0 2px 6px rgba(0,0,0,.3); z-index: 10; font-size: 13px; }
#tip-image { image-rendering: pixelated; display: block; border: 1px solid #ddd; }
#views { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
#views > div { border: 1px solid #ddd; padding: 6px 10px; }
#confusion td { cursor: pointer; } #confusion td:hover { outline: 2px solid #000; }
#grid { display: flex; flex-wrap: wrap; gap: 2px; }
.thumb { image-rendering: pixelated; background-repeat: no-repeat; outline: 1px solid #eee; }
.thumb.other { outline: 3px solid #d62728; outline-offset: -3px; }
.part { width: 100%; font-weight: bold; margin-top: 6px; }
</style>
</head>
<body>
<h1 id="title">every image of the run</h1>
<div id="scores"></div>
<div id="params"></div>
<div id="controls">
  <span>splits: <label><input type="checkbox" id="split-0" checked> train</label>
    <label><input type="checkbox" id="split-1" checked> validation</label>
    <label><input type="checkbox" id="split-2" checked> test</label></span>
  <label>colour by <select id="colour"></select></label>
  <span id="shown"></span>
  <span>drag to pan, wheel to zoom, hover a point for its image</span>
</div>
<div id="legend"></div>
<div id="mapbox"><canvas id="map"></canvas></div>
<div id="tooltip" hidden><canvas id="tip-image"></canvas><div id="tip-text"></div></div>
<div id="views">
  <div><h2>A cluster</h2><select id="cluster-method"></select> <select id="cluster-id"></select>
    <button id="cluster-show">show</button></div>
  <div id="confusion-view"><h2>A confusion cell</h2><select id="confusion-method"></select>
    <p>rows: true class; columns: cluster (its matched class). Click a cell.</p><table id="confusion"></table></div>
  <div><h2>Where two methods disagree</h2><select id="dis-a"></select> <select id="dis-b"></select>
    <button id="dis-show">show</button><p id="dis-note">images put in clusters of different classes</p></div>
  <div><h2>Least typical</h2><button id="least-show">show</button><p>of each selected split</p></div>
</div>
<h2 id="grid-title"></h2><p id="grid-count"></p>
<div id="grid"></div>
<script src="data.js"></script>
<script>
"use strict";
(() => {
const D = window.EXPLORER_DATA, N = D.rows, methods = Object.keys(D.methods);
const $ = id => document.getElementById(id);
const decode = a => {  // base64 to a typed array; quantized values (a.min, a.max) back to numbers
  const text = atob(a.b64), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const values = new ({uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array}[a.dtype])(bytes.buffer);
  if (a.min === undefined) return values;
  const step = (a.max - a.min) / a.levels || 1, out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = a.min + values[i] * step;
  return out;
};
const A = {}; for (const k in D.arrays) A[k] = decode(D.arrays[k]);
const L = D.classes !== null;  // the images have labels
const H = D.height, W = D.width;
const TILE_ZOOM = Math.max(1, Math.round(56 / Math.max(H, W)));  // a tile about 56 CSS pixels on its longer side
document.title = `${D.name} clustering: explorer`;
$("title").textContent = `${D.name} clustering: every image of the run`;
const classIndex = Object.fromEntries((D.classes || []).map((c, i) => [c, i]));
// each method's cluster -> index of its matched class (-1 unmatched), and each row's
const matched = {};
for (const m of methods) {
  const names = D.cluster_classes[m] || {}, cl = A["cluster_" + m];
  let k = 0; for (let i = 0; i < N; i++) k = Math.max(k, cl[i] + 1);
  const table = Array.from({length: k}, (_, c) => classIndex[names[String(c)]] ?? -1);
  const rows = new Int8Array(N); for (let i = 0; i < N; i++) rows[i] = table[cl[i]];
  matched[m] = {table, rows, k};
}
const clusterName = (m, c) => L ? `${c} (${D.classes[matched[m].table[c]] ?? "unmatched"})` : `${c}`;
const splitNames = {train: "train", val: "validation", test: "test"};

// ---- header: scores and params
if (!L) $("scores").textContent = "The images have no labels: the clusters are not scored against classes.";
else {
  const splits = D.splits;
  let h = "<table><tr><th>method</th>" + splits.map(s => `<th>${splitNames[s]} ACC</th><th>${splitNames[s]} NMI</th>`).join("") + "</tr>";
  for (const m of methods) {
    const s = D.scores[m] || {};
    h += `<tr><th>${D.methods[m]}</th>` + splits.map(p => s[p] ? `<td>${s[p].acc.toFixed(3)}</td><td>${s[p].nmi.toFixed(3)}</td>` : "<td></td><td></td>").join("") + "</tr>";
  }
  $("scores").innerHTML = h + "</table>";
}
$("params").textContent = Object.entries(D.params).map(([sec, kv]) =>
  sec + ": " + Object.entries(kv).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")).join(" · ");

// ---- colours
const PALETTE = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf",
  "#393b79","#e6550d","#31a354","#843c39","#756bb1","#8c6d31","#de9ed6","#636363","#9c9ede","#6baed6"];
const rgb = hex => [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
const PAL = PALETTE.map(rgb);
const RAMP = [[68,1,84],[59,82,139],[33,145,140],[94,201,98],[253,231,37]];
const ramp = t => { const x = Math.min(Math.max(t, 0), 1) * 4, i = Math.min(3, Math.floor(x)), f = x - i;
  return RAMP[i].map((v, j) => Math.round(v + f * (RAMP[i + 1][j] - v))); };
const colourOptions = [...(L ? [["true", "true class"]] : []), ...methods.flatMap(m => [["cluster:" + m, D.methods[m] + ": cluster"],
  ...(L ? [["class:" + m, D.methods[m] + ": matched class"]] : [])]), ["typicality", "typicality"]];
$("colour").innerHTML = colourOptions.map(([v, t]) => `<option value="${v}">${t}</option>`).join("");
$("colour").value = "cluster:" + D.probabilistic;
let colours = new Uint32Array(N);  // ABGR, for the pixel writes
const pack = ([r, g, b]) => (255 << 24 | b << 16 | g << 8 | r) >>> 0;
function setColours() {
  const v = $("colour").value, [kind, m] = v.split(":");
  let legend = [];
  if (kind === "typicality") {
    for (let i = 0; i < N; i++) colours[i] = pack(ramp(A.typicality[i]));
    legend = [["least typical", ramp(0)], ["most typical", ramp(1)]];
  } else {
    const key = kind === "true" ? A.label : kind === "class" ? matched[m].rows : A["cluster_" + m];
    for (let i = 0; i < N; i++) colours[i] = pack(key[i] < 0 ? [0, 0, 0] : PAL[key[i] % PAL.length]);
    legend = kind === "cluster" ? matched[m].table.map((_, c) => [(L ? "" : "cluster ") + clusterName(m, c), PAL[c % PAL.length]])
                                : D.classes.map((c, i) => [c, PAL[i]]);
  }
  $("legend").innerHTML = legend.map(([t, c]) => `<span style="--c:rgb(${c})">${t}</span>`).join("");
}

// ---- the map: data bounds, view, pixel drawing
const canvas = $("map"), ctx = canvas.getContext("2d");
let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
for (let i = 0; i < N; i++) { x0 = Math.min(x0, A.x[i]); x1 = Math.max(x1, A.x[i]); y0 = Math.min(y0, A.y[i]); y1 = Math.max(y1, A.y[i]); }
const view = {scale: 1, ox: 0, oy: 0};
const shownSplits = () => [0, 1, 2].filter(s => $("split-" + s).checked);
let visible = new Uint8Array(N);
function setVisible() {
  const on = shownSplits(); let n = 0;
  for (let i = 0; i < N; i++) n += visible[i] = on.includes(A.split[i]) ? 1 : 0;
  $("shown").textContent = `${n.toLocaleString("en")} images shown`;
}
function fit() {
  canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight;
  const pad = 10, w = Math.max(x1 - x0, 1e-9), h = Math.max(y1 - y0, 1e-9);
  view.scale = Math.min((canvas.width - 2 * pad) / w, (canvas.height - 2 * pad) / h);
  view.ox = (canvas.width - view.scale * (x0 + x1)) / 2; view.oy = (canvas.height + view.scale * (y0 + y1)) / 2;
}
const sx = i => view.ox + view.scale * A.x[i], sy = i => view.oy - view.scale * A.y[i];
let drawn = 0;
function draw() {
  const W = canvas.width, H = canvas.height, img = ctx.createImageData(W, H), px = new Uint32Array(img.data.buffer);
  px.fill(0xffffffff);
  const s = Math.max(1, Math.round(D.point_size)), half = Math.floor(s / 2);
  drawn = 0;
  for (let i = 0; i < N; i++) {
    if (!visible[i]) continue;
    const cx = Math.floor(sx(i)) - half, cy = Math.floor(sy(i)) - half;
    if (cx + s <= 0 || cy + s <= 0 || cx >= W || cy >= H) continue;
    drawn++;
    const c = colours[i];
    for (let dy = Math.max(0, cy); dy < Math.min(H, cy + s); dy++)
      for (let dx = Math.max(0, cx); dx < Math.min(W, cx + s); dx++) px[dy * W + dx] = c;
  }
  ctx.putImageData(img, 0, 0);
  canvas.dataset.pointsDrawn = drawn;
}
// a grid index over data space, for the point nearest the mouse
const G = 256, cellOf = new Int32Array(N), start = new Int32Array(G * G + 1), order = new Int32Array(N);
{
  const gx = v => Math.min(G - 1, Math.floor((v - x0) / Math.max(x1 - x0, 1e-9) * G));
  const gy = v => Math.min(G - 1, Math.floor((v - y0) / Math.max(y1 - y0, 1e-9) * G));
  for (let i = 0; i < N; i++) { cellOf[i] = gy(A.y[i]) * G + gx(A.x[i]); start[cellOf[i] + 1]++; }
  for (let c = 0; c < G * G; c++) start[c + 1] += start[c];
  const fill = start.slice(0, G * G); for (let i = 0; i < N; i++) order[fill[cellOf[i]]++] = i;
}
function nearest(mx, my, radius) {
  const dx = (x1 - x0) / G || 1e-9, dy = (y1 - y0) / G || 1e-9;
  const x = (mx - view.ox) / view.scale, y = (view.oy - my) / view.scale, r = radius / view.scale;
  const cx0 = Math.max(0, Math.floor((x - r - x0) / dx)), cx1 = Math.min(G - 1, Math.floor((x + r - x0) / dx));
  const cy0 = Math.max(0, Math.floor((y - r - y0) / dy)), cy1 = Math.min(G - 1, Math.floor((y + r - y0) / dy));
  let best = -1, bestD = radius * radius;
  for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) {
    const c = cy * G + cx;
    for (let k = start[c]; k < start[c + 1]; k++) {
      const i = order[k]; if (!visible[i]) continue;
      const d = (sx(i) - mx) ** 2 + (sy(i) - my) ** 2;
      if (d < bestD || (d === bestD && i > best)) { bestD = d; best = i; }  // ties: the one drawn on top
    }
  }
  return best;
}

// ---- images: sprite sheets, the tooltip, tiles
const sheets = [];  // each sheet is loaded when one of its images is first shown
const sheet = s => sheets[s] ??= Object.assign(new Image(), {src: D.sheets[s]});
const per = D.sheet_side * D.sheet_side;
const where = i => { const k = i % per; return [Math.floor(i / per), (k % D.sheet_side) * W, Math.floor(k / D.sheet_side) * H]; };
const tip = $("tooltip"), tipCanvas = $("tip-image"), tipCtx = tipCanvas.getContext("2d");
tipCanvas.width = W * D.hover_zoom; tipCanvas.height = H * D.hover_zoom;
function describe(i) {
  const lines = [`image ${i} · ${splitNames[D.splits[A.split[i]]]}` + (L ? ` · true class: <b>${D.classes[A.label[i]]}</b>` : "")];
  for (const m of methods) {
    const c = A["cluster_" + m][i], mem = A["membership_" + m][i];
    lines.push(`${D.methods[m]}: cluster ${clusterName(m, c)}` + (m === D.probabilistic
      ? `, probability ${mem.toFixed(3)}` : `, distance to centre ${mem.toFixed(2)}`));
  }
  lines.push(`typicality ${A.typicality[i].toFixed(3)} (share of validation images less typical)`);
  return lines.join("<br>");
}
function drawTip(i) {
  const [s, x, y] = where(i), im = sheet(s);
  const paint = () => { tipCtx.imageSmoothingEnabled = false; tipCtx.drawImage(im, x, y, W, H, 0, 0, tipCanvas.width, tipCanvas.height);
    tip.dataset.imageShown = i; };
  tip.dataset.row = i; delete tip.dataset.imageShown;
  tipCtx.clearRect(0, 0, tipCanvas.width, tipCanvas.height);
  if (im.complete && im.naturalWidth) paint(); else im.addEventListener("load", () => { if (+tip.dataset.row === i) paint(); }, {once: true});
}
function showTip(i, clientX, clientY) {
  if (i < 0) { tip.hidden = true; delete tip.dataset.row; return; }
  if (+tip.dataset.row !== i || tip.hidden) { $("tip-text").innerHTML = describe(i); drawTip(i); }
  tip.hidden = false;
  const w = tip.offsetWidth, h = tip.offsetHeight;
  tip.style.left = Math.min(clientX + 14, innerWidth - w - 4) + "px";
  tip.style.top = Math.min(clientY + 14, innerHeight - h - 4) + "px";
}
function tile(i, other) {
  const [s, x, y] = where(i), z = TILE_ZOOM, d = document.createElement("div");
  d.className = other ? "thumb other" : "thumb"; d.dataset.row = i;
  d.style.backgroundImage = `url("${D.sheets[s]}")`;
  d.style.width = `${W * z}px`; d.style.height = `${H * z}px`;
  d.style.backgroundSize = `${D.sheet_side * W * z}px auto`;
  d.style.backgroundPosition = `-${x * z}px -${y * z}px`;
  return d;
}
function showGrid(title, parts, note) {
  const grid = $("grid"); grid.textContent = ""; let n = 0;
  for (const {label, rows, other} of parts) {
    if (label) { const p = document.createElement("div"); p.className = "part"; p.textContent = `${label}: ${rows.length.toLocaleString("en")}`; grid.append(p); }
    const frag = document.createDocumentFragment();
    for (const i of rows) frag.append(tile(i, other ? other(i) : false));
    grid.append(frag); n += rows.length;
  }
  $("grid-title").textContent = title;
  $("grid-count").textContent = `${n.toLocaleString("en")} images` + (note ? "; " + note : "");
  $("grid-count").dataset.count = n;
  $("grid-title").scrollIntoView();
}
$("grid").addEventListener("mousemove", e => { const t = e.target.closest(".thumb"); showTip(t ? +t.dataset.row : -1, e.clientX, e.clientY); });
$("grid").addEventListener("mouseleave", () => showTip(-1));

// ---- the views
const selected = () => { const out = []; for (let i = 0; i < N; i++) if (visible[i]) out.push(i); return out; };
const byMembership = (m, rows) => { const v = A["membership_" + m], sign = m === D.probabilistic ? -1 : 1;
  return rows.sort((a, b) => sign * (v[a] - v[b]) || a - b); };
const methodOptions = methods.map(m => `<option value="${m}">${D.methods[m]}</option>`).join("");
for (const id of ["cluster-method", "confusion-method", "dis-a", "dis-b"]) $(id).innerHTML = methodOptions;
$("cluster-method").value = $("confusion-method").value = D.probabilistic; $("dis-a").value = methods.find(m => m !== D.probabilistic && m !== "baseline_kmeans") ?? methods[0];
$("dis-b").value = D.probabilistic;
const clusterOptions = () => { const m = $("cluster-method").value;
  $("cluster-id").innerHTML = matched[m].table.map((_, c) => `<option value="${c}">${clusterName(m, c)}</option>`).join(""); };
function showCluster() {
  const m = $("cluster-method").value, c = +$("cluster-id").value, cl = A["cluster_" + m], cls = matched[m].table[c];
  const rows = byMembership(m, selected().filter(i => cl[i] === c));
  const title = `${D.methods[m]}, cluster ${clusterName(m, c)}, ordered by ` + (m === D.probabilistic ? "probability" : "distance to the centre");
  if (!L) { showGrid(title, [{rows}]); return; }
  const other = rows.filter(i => A.label[i] !== cls).length;
  showGrid(title, [{rows, other: i => A.label[i] !== cls}], `${other.toLocaleString("en")} whose true class is not ${D.classes[cls] ?? "matched"} (outlined red)`);
}
function confusionTable() {
  if (!L) return;
  const m = $("confusion-method").value, cl = A["cluster_" + m], k = matched[m].k;
  const t = Array.from({length: D.classes.length}, () => new Array(k).fill(0));
  for (let i = 0; i < N; i++) if (visible[i]) t[A.label[i]][cl[i]]++;
  let h = "<tr><th></th>" + matched[m].table.map((_, c) => `<th>${clusterName(m, c)}</th>`).join("") + "</tr>";
  const max = Math.max(1, ...t.flat());
  t.forEach((row, r) => { h += `<tr><th>${D.classes[r]}</th>` + row.map((n, c) =>
    `<td data-r="${r}" data-c="${c}" style="background:rgba(31,119,180,${(n / max * 0.8).toFixed(3)})">${n}</td>`).join("") + "</tr>"; });
  $("confusion").innerHTML = h;
}
$("confusion").addEventListener("click", e => {
  const td = e.target.closest("td"); if (!td) return;
  const m = $("confusion-method").value, r = +td.dataset.r, c = +td.dataset.c, cl = A["cluster_" + m];
  const rows = byMembership(m, selected().filter(i => A.label[i] === r && cl[i] === c));
  showGrid(`${D.methods[m]}: true class ${D.classes[r]} in cluster ${clusterName(m, c)}`, [{rows}]);
});
function showDisagreement() {
  const a = $("dis-a").value, b = $("dis-b").value;
  if (!L) {  // b's clusters as the clusters of a they are matched to
    const ca = A["cluster_" + a], cb = A["cluster_" + b], match = D.matches[a][b];
    const rows = selected().filter(i => match[cb[i]] !== ca[i]);
    showGrid(`${D.methods[a]} and ${D.methods[b]} put these in clusters not matched to each other`, [{rows}],
      `hover one for both clusters`);
    return;
  }
  const ra = matched[a].rows, rb = matched[b].rows;
  const rows = selected().filter(i => ra[i] !== rb[i]);
  showGrid(`${D.methods[a]} and ${D.methods[b]} put these in clusters of different classes`, [{rows}],
    `hover one for both clusters`);
}
function showLeastTypical() {
  const parts = shownSplits().map(s => {
    const rows = []; for (let i = 0; i < N; i++) if (A.split[i] === s) rows.push(i);
    rows.sort((p, q) => A.typicality[p] - A.typicality[q] || p - q);
    return {label: splitNames[D.splits[s]], rows: rows.slice(0, D.least_typical)};
  });
  showGrid(`The ${D.least_typical} least typical images of each split, least typical first`, parts);
}
if (!L) { $("confusion-view").hidden = true; $("dis-note").textContent = "images put in clusters not matched to each other"; }
$("cluster-method").addEventListener("change", clusterOptions);
$("cluster-show").addEventListener("click", showCluster);
$("confusion-method").addEventListener("change", confusionTable);
$("dis-show").addEventListener("click", showDisagreement);
$("least-show").addEventListener("click", showLeastTypical);

// ---- interaction on the map
let drag = null;
canvas.addEventListener("mousedown", e => { drag = [e.clientX, e.clientY]; });
addEventListener("mouseup", () => { drag = null; });
canvas.addEventListener("mousemove", e => {
  const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
  if (drag) { view.ox += e.clientX - drag[0]; view.oy += e.clientY - drag[1]; drag = [e.clientX, e.clientY]; draw(); showTip(-1); return; }
  showTip(nearest(mx, my, Math.max(6, D.point_size * 2)), e.clientX, e.clientY);
});
canvas.addEventListener("mouseleave", () => showTip(-1));
canvas.addEventListener("wheel", e => {
  e.preventDefault();
  const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top, f = Math.exp(-e.deltaY * 0.002);
  view.ox = mx - (mx - view.ox) * f; view.oy = my - (my - view.oy) * f; view.scale *= f; draw();
}, {passive: false});
for (const s of [0, 1, 2]) $("split-" + s).addEventListener("change", () => { setVisible(); draw(); confusionTable(); });
$("colour").addEventListener("change", () => { setColours(); draw(); });
addEventListener("resize", () => { fit(); draw(); });

setColours(); setVisible(); fit(); draw(); clusterOptions(); confusionTable();
const firstMap = performance.now();
document.body.dataset.firstMapMs = firstMap.toFixed(0);
console.log(`explorer: first map drawn at ${firstMap.toFixed(0)} ms, ${drawn} points`);
// for tests and benchmarks: where a row is drawn on the page
window.explorer = {pointAt: i => { const r = canvas.getBoundingClientRect(); return [r.left + sx(i), r.top + sy(i)]; },
  sheetsLoaded: () => Object.keys(sheets).map(Number)};  // for tests and benchmarks
})();
</script>
</body>
</html>
"""
