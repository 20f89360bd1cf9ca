// mlcycle dashboard: draws the charts (Plotly, served from the installed package), follows a running
// action, and keeps the compare selection between 2 and 10 trials. Every page works without it.
"use strict";

const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

function drawCharts() {
  if (typeof Plotly === "undefined") return;
  for (const el of document.querySelectorAll(".chart[data-chart]")) {
    const spec = JSON.parse(el.dataset.chart);
    const layout = Object.assign({ margin: { t: 40, r: 10, b: 40, l: 60 }, legend: { orientation: "h" } }, spec.layout || {});
    Plotly.newPlot(el, spec.data, layout, PLOT_CONFIG);
  }
}

async function drawTradeoff() {
  const el = document.getElementById("tradeoff");
  if (!el || typeof Plotly === "undefined") return;
  const response = await fetch(el.dataset.points, { headers: { Accept: "application/json" } });
  if (!response.ok) { el.textContent = "the chart could not be loaded"; return; }
  const p = await response.json();
  const selected = new Set(JSON.parse(el.dataset.selected));
  const all = { type: "scattergl", mode: "markers", name: "all trials", x: p.xs, y: p.ys,
    text: p.numbers.map((n, i) => `trial ${n} (${p.algorithms[i]})`), marker: { size: 5, color: "#9aa5b1" } };
  const idx = p.run_ids.map((id, i) => (selected.has(id) ? i : -1)).filter((i) => i >= 0);
  const chosen = { type: "scatter", mode: "markers+text", name: "selected", x: idx.map((i) => p.xs[i]),
    y: idx.map((i) => p.ys[i]), text: idx.map((i) => String(p.numbers[i])), textposition: "top center",
    marker: { size: 11, symbol: "diamond", color: "#0b63c4" } };
  Plotly.newPlot(el, [all, chosen], { height: 380, xaxis: { title: { text: p.x } }, yaxis: { title: { text: p.y } },
    margin: { t: 20, r: 10, b: 50, l: 70 }, legend: { orientation: "h" } }, PLOT_CONFIG);
}

function followJob() {
  const el = document.getElementById("job");
  if (!el) return;
  const poll = async () => {
    const response = await fetch(el.dataset.job, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const job = await response.json();
    document.getElementById("job-state").textContent = job.state;
    document.getElementById("job-output").textContent = job.output;
    if (job.state === "running") setTimeout(poll, 1000);
    else location.reload(); // the action log and the champion change with it
  };
  if (document.getElementById("job-state").textContent === "running") setTimeout(poll, 500);
}

function limitCompare() {
  const form = document.getElementById("compare-form");
  if (!form) return;
  const button = document.getElementById("compare");
  const count = document.getElementById("compare-count");
  const update = () => {
    const n = form.querySelectorAll("input[name=run]:checked").length;
    button.disabled = n < 2 || n > 10;
    count.textContent = n > 10 ? `${n} selected: 10 at most` : `${n} selected (2 to 10)`;
  };
  form.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts();
  drawTradeoff();
  followJob();
  limitCompare();
});
