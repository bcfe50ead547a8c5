// The segen serve page: plain JavaScript against the server's own API (no library, no external resource).
"use strict";

const $ = (id) => document.getElementById(id);
let models = { segmenters: [], generators: [] };
let droppedFile = null;
let lastImages = {};

async function api(path, init) {
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = response.status + " " + response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (e) { /* not JSON: keep the status line */ }
    throw new Error(detail);
  }
  return response;
}

function showError(id, error) {
  const el = $(id);
  el.textContent = error ? String(error.message || error) : "";
  el.hidden = !error;
}

function fillSelect(select, rows) {
  select.innerHTML = "";
  for (const row of rows) {
    const option = document.createElement("option");
    option.value = row.name;
    option.textContent = row.name + (row.labels === "instances" ? " (instances)" : "");
    select.appendChild(option);
  }
}

function optionInputs(row) {
  const box = $("segmenter-options");
  box.querySelectorAll("label").forEach((el) => el.remove());
  for (const opt of row.options) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.dataset.option = opt.name;
    input.dataset.type = opt.type || "";
    if (opt.type === "bool") {
      input.type = "checkbox";
      input.checked = Boolean(opt.default);
      label.append(input, " " + opt.name);
    } else {
      input.type = opt.type === "int" || opt.type === "float" ? "number" : "text";
      if (opt.type === "float") input.step = "any";
      if (opt.default !== null && opt.default !== undefined) input.value = opt.default;
      label.append(opt.name + " ", input);
    }
    box.appendChild(label);
  }
  box.classList.toggle("empty", row.options.length === 0);
}

function readOptions() {
  const out = {};
  for (const input of $("segmenter-options").querySelectorAll("input")) {
    const name = input.dataset.option;
    const type = input.dataset.type;
    if (input.type === "checkbox") out[name] = input.checked;
    else if (input.value === "") continue;
    else if (type === "int") out[name] = parseInt(input.value, 10);
    else if (type === "float") out[name] = parseFloat(input.value);
    else out[name] = input.value;
  }
  return out;
}

function current(kind, name) {
  return models[kind].find((row) => row.name === name);
}

async function onGeneratorChange() {
  const row = current("generators", $("generator").value);
  $("generator-summary").textContent = row ? row.summary : "";
  $("labels-field").hidden = true;
  if (!row) return;
  try {
    const info = await (await api("api/models/generator/" + encodeURIComponent(row.name))).json();
    const classes = info.info && info.info.num_classes;
    $("labels-field").hidden = !classes;
    $("labels").placeholder = classes ? "0.." + (classes - 1) + ", e.g. 7 or 0,1,2" : "";
  } catch (e) {
    showError("generate-error", e);
  }
}

function onSegmenterChange() {
  const row = current("segmenters", $("segmenter").value);
  $("segmenter-summary").textContent = row ? row.summary : "";
  if (row) optionInputs(row);
}

function showView() {
  const img = $("segment-result");
  const src = lastImages[$("view").value];
  if (src) {
    img.src = src;
    img.hidden = false;
  }
}

function fillLegend(stats) {
  const table = $("legend");
  const body = table.querySelector("tbody");
  body.innerHTML = "";
  const rows = stats.regions.slice(0, 40);
  for (const r of rows) {
    const tr = document.createElement("tr");
    const swatch = document.createElement("td");
    swatch.className = "swatch";
    const box = document.createElement("span");
    box.style.background = r.color;
    swatch.appendChild(box);
    const cells = [String(r.label), r["class"] || (stats.labels === "instances" ? "object" : ""),
      (100 * r.fraction).toFixed(1) + " %"];
    tr.appendChild(swatch);
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  if (stats.regions.length > rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 4;
    td.textContent = "... and " + (stats.regions.length - rows.length) + " more";
    tr.appendChild(td);
    body.appendChild(tr);
  }
  table.hidden = false;
}

async function segment(event) {
  if (event) event.preventDefault();
  showError("segment-error", null);
  const file = droppedFile || $("image-input").files[0];
  if (!file) {
    showError("segment-error", "choose or drop an image first");
    return;
  }
  const form = new FormData();
  form.append("image", file);
  form.append("model", $("segmenter").value);
  form.append("options", JSON.stringify(readOptions()));
  form.append("output", "stats");
  form.append("include", "overlay,mask,cutout");
  form.append("alpha", $("alpha").value);
  form.append("boundaries", $("boundaries").checked ? "true" : "false");
  $("segment-button").disabled = true;
  $("status").textContent = "segmenting...";
  try {
    const stats = await (await api("api/segment", { method: "POST", body: form })).json();
    lastImages = stats.images;
    showView();
    fillLegend(stats);
    $("segment-caption").textContent = stats.model + ": " + stats.regions.length + " "
      + (stats.labels === "instances" ? "object(s)" : "label(s)") + ", " + stats.width + "x" + stats.height
      + ", " + stats.elapsed_ms.toFixed(0) + " ms";
    $("segment-result").dataset.state = "done";
    $("status").textContent = "";
  } catch (e) {
    showError("segment-error", e);
    $("status").textContent = "";
  } finally {
    $("segment-button").disabled = false;
  }
}

function parseLabels(text) {
  text = text.trim();
  if (!text) return null;
  const values = text.split(",").map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v))) throw new Error("labels: comma-separated integers expected");
  return values.length === 1 ? values[0] : values;
}

async function generate(event) {
  if (event) event.preventDefault();
  showError("generate-error", null);
  $("generate-button").disabled = true;
  try {
    const body = {
      model: $("generator").value,
      n: parseInt($("n").value, 10),
      seed: parseInt($("seed").value, 10),
      scale: parseInt($("scale").value, 10),
      output: "grid",
    };
    if (!$("labels-field").hidden) body.labels = parseLabels($("labels").value);
    const response = await api("api/generate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const img = $("generate-result");
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(await response.blob());
    img.hidden = false;
    img.dataset.state = "done";
    $("generate-caption").textContent = body.model + ", " + body.n + " samples, seed " + body.seed;
  } catch (e) {
    showError("generate-error", e);
  } finally {
    $("generate-button").disabled = false;
  }
}

function setUpDrop() {
  const drop = $("drop");
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length) {
      droppedFile = e.dataTransfer.files[0];
      drop.querySelector("span").textContent = droppedFile.name;
      segment();
    }
  });
  $("image-input").addEventListener("change", () => {
    droppedFile = null;
    const file = $("image-input").files[0];
    if (file) drop.querySelector("span").textContent = file.name;
  });
}

async function start() {
  setUpDrop();
  $("segment-form").addEventListener("submit", segment);
  $("generate-form").addEventListener("submit", generate);
  $("segmenter").addEventListener("change", onSegmenterChange);
  $("generator").addEventListener("change", onGeneratorChange);
  $("view").addEventListener("change", showView);
  try {
    const version = await (await api("version")).json();
    $("version").textContent = "v" + version.segen;
    models = await (await api("api/models")).json();
    fillSelect($("segmenter"), models.segmenters);
    fillSelect($("generator"), models.generators);
    onSegmenterChange();
    await onGeneratorChange();
    document.body.dataset.ready = "true";
  } catch (e) {
    showError("segment-error", e);
  }
}

start();
