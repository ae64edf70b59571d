// The token page: candles with volume and events, score history and curve progress on the same time axis,
// top holders with flags, the Lorenz curve with the Gini of marts.holder_distribution, the latest trades.
(function () {
  "use strict";
  const mint = document.getElementById("token").dataset.mint;
  const api = (path) => fetch(`/api/token/${encodeURIComponent(mint)}${path}`).then(async (res) => {
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  });
  const state = {interval: "1m", quote: "sol", events: [], scores: []};
  const WIDTH_MS = {"1m": 60e3, "5m": 300e3, "1h": 3600e3, "1d": 86400e3};
  const dark = {paper_bgcolor: "#0e1117", plot_bgcolor: "#0e1117", font: {color: "#e6edf3", size: 11},
                margin: {l: 60, r: 20, t: 30, b: 30}, showlegend: true, legend: {orientation: "h", y: 1.12}};
  const grid = {gridcolor: "#21262d", zerolinecolor: "#30363d"};
  const config = {responsive: true, displaylogo: false};
  const esc = (s) => String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const num = (v, d) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("en-US", {maximumFractionDigits: d}));
  const short = (a) => (a ? a.slice(0, 6) + "…" + a.slice(-4) : "");
  let timeRange = null;

  function eventMarks(events) {
    const shapes = [], annotations = [];
    // labels of events close in time go on separate rows (the first above the plot, the others inside it)
    const times = events.map((ev) => new Date(ev.at).getTime());
    const span = timeRange ? new Date(timeRange[1]).getTime() - new Date(timeRange[0]).getTime()
                           : Math.max(...times, 0) - Math.min(...times, 0);
    const near = Math.max(span / 12, 1);
    let level = 0, previous = -Infinity;
    events.map((ev, i) => [ev, times[i]]).sort((a, b) => a[1] - b[1]).forEach(([ev, at]) => {
      level = at - previous < near ? (level + 1) % 5 : 0;
      previous = at;
      const colour = ev.kind === "selloff" ? "#ef5350" : "#f0b72f";
      shapes.push({type: "line", xref: "x", yref: "paper", x0: ev.at, x1: ev.at, y0: 0, y1: 1,
                   line: {color: colour, width: 1, dash: "dot"}});
      annotations.push({x: ev.at, xref: "x", y: 1, yref: "paper", text: ev.label, showarrow: false,
                        font: {color: colour, size: 10}, textangle: 0, xanchor: "left", bgcolor: "#0e1117cc",
                        yanchor: level === 0 ? "bottom" : "top", yshift: level === 0 ? 0 : -2 - 14 * (level - 1)});
    });
    return {shapes, annotations};
  }

  async function drawPrice() {
    const data = await api(`/candles?interval=${state.interval}&quote=${state.quote}`);
    const c = data.candles;
    const x = c.map((r) => r.bucket);
    const unit = state.quote === "usd" ? "USD" : "SOL";
    const traces = [
      {type: "candlestick", name: `price (${unit})`, x, open: c.map((r) => r.open), high: c.map((r) => r.high),
       low: c.map((r) => r.low), close: c.map((r) => r.close), yaxis: "y",
       increasing: {line: {color: "#26a69a"}}, decreasing: {line: {color: "#ef5350"}}},
      {type: "bar", name: `volume (${unit})`, x, y: c.map((r) => r.volume), yaxis: "y2",
       marker: {color: c.map((r) => (Number(r.close) >= Number(r.open) ? "#26a69a88" : "#ef535088"))}},
    ];
    if (x.length) {
      timeRange = [x[0], new Date(new Date(x[x.length - 1]).getTime() + WIDTH_MS[state.interval]).toISOString()];
    }
    const marks = eventMarks(state.events);
    await Plotly.react("price-chart", traces, {
      ...dark, title: {text: `${state.interval} candles in ${unit}`, x: 0},
      xaxis: {...grid, rangeslider: {visible: false}, type: "date", range: timeRange || undefined},
      yaxis: {...grid, domain: [0.28, 1], title: unit, exponentformat: "e"},
      yaxis2: {...grid, domain: [0, 0.22], title: "volume"},
      shapes: marks.shapes, annotations: marks.annotations,
    }, config);
    const el = document.getElementById("price-chart");
    el.dataset.candles = String(c.length);
    el.dataset.interval = state.interval;
    el.dataset.quote = state.quote;
  }

  async function drawScores() {
    const rows = state.scores;
    const line = (key, name, colour) => ({type: "scatter", mode: "lines+markers", name, x: rows.map((r) => r.as_of),
                                          y: rows.map((r) => r[key]), line: {color: colour}, connectgaps: true});
    const traces = [line("total_score", "999 total", "#58a6ff"), line("technical_score", "technical", "#26a69a"),
                    line("holder_score", "holder", "#f0b72f")];
    await Plotly.react("score-chart", traces, {
      ...dark, title: {text: rows.length ? "Score history" : "Score history (no scores stored yet)", x: 0},
      xaxis: {...grid, type: "date", range: timeRange || undefined}, yaxis: {...grid, title: "points"},
      shapes: eventMarks(state.events).shapes,
    }, config);
    document.getElementById("score-chart").dataset.points = String(rows.length);
  }

  async function drawProgress() {
    const data = await api(`/progress?interval=${state.interval}`);
    const p = data.progress;
    await Plotly.react("progress-chart", [{type: "scatter", mode: "lines", name: "curve progress %", fill: "tozeroy",
      x: p.map((r) => r.bucket), y: p.map((r) => r.progress), line: {color: "#58a6ff"}}], {
      ...dark, title: {text: "Bonding-curve progress", x: 0}, showlegend: false,
      xaxis: {...grid, type: "date", range: timeRange || undefined}, yaxis: {...grid, range: [0, 100], title: "%"},
      shapes: eventMarks(state.events).shapes,
    }, config);
    document.getElementById("progress-chart").dataset.points = String(p.length);
  }

  async function drawHolders() {
    const data = await api("/holders");
    // flags are columns of marts.token_holder_balances, by the rules of marts.token_signals
    const flagged = (w) => [["is_creator", "creator"], ["is_sniper", "sniper"], ["is_bundler", "bundler"]]
      .filter(([key]) => w[key]).map(([, name]) => `<span class="flag">${name}</span>`).join("");
    document.querySelector("#holders tbody").innerHTML = data.top.map((w) => `
      <tr data-wallet="${esc(w.wallet_address)}"><td>${w.rank}</td><td class="wallet" title="${esc(w.wallet_address)}">${esc(short(w.wallet_address))}</td>
      <td>${num(w.balance, 0)}</td><td>${num(w.pct_of_circulating, 2)}</td><td>${flagged(w)}</td></tr>`).join("");
    const gini = data.gini === null ? null : Number(data.gini);
    const label = document.getElementById("gini-label");
    label.textContent = gini === null ? "(no holders)" : `Gini ${gini.toFixed(4)} · ${data.holder_count} holders`;
    label.dataset.gini = gini === null ? "" : String(data.gini);
    const pts = data.lorenz;
    await Plotly.react("lorenz-chart", [
      {type: "scatter", mode: "lines", name: "equality", x: [0, 1], y: [0, 1], line: {color: "#8b949e", dash: "dash"}},
      {type: "scatter", mode: "lines", name: "Lorenz", x: pts.map((p) => p.x), y: pts.map((p) => p.y),
       line: {color: "#58a6ff", shape: "linear"}, fill: "tonexty"},
    ], {...dark, title: {text: gini === null ? "" : `Gini ${gini.toFixed(4)}`, x: 0},
        xaxis: {...grid, range: [0, 1], title: "share of holders"}, yaxis: {...grid, range: [0, 1], title: "share of tokens"}},
    config);
  }

  async function drawTrades() {
    const data = await api("/trades?limit=50");
    document.querySelector("#trades tbody").innerHTML = data.trades.map((t) => `
      <tr><td>${esc(String(t.block_time).replace("T", " ").slice(0, 19))}</td><td class="${esc(t.type)}">${esc(t.type)}</td>
      <td class="wallet" title="${esc(t.user_address)}">${esc(short(t.user_address))}</td><td>${num(t.sol_amount, 4)}</td>
      <td>${num(t.token_amount, 0)}</td><td>${num(t.price_per_token, 12)}</td><td>${num(t.sol_amount_usd, 2)}</td></tr>`).join("");
  }

  async function drawTimeCharts() {
    await drawPrice();
    await Promise.all([drawScores(), drawProgress()]);
  }

  function bindButtons(selector, key) {
    document.querySelectorAll(selector).forEach((btn) => btn.addEventListener("click", async () => {
      document.querySelectorAll(selector).forEach((b) => b.classList.toggle("active", b === btn));
      state[key] = btn.dataset[key];
      document.body.dataset.ready = "";
      await drawTimeCharts();
      document.body.dataset.ready = "1";
    }));
  }

  async function main() {
    try {
      const [ev, sc] = await Promise.all([api("/events"), api("/scores")]);
      state.events = ev.events;
      state.scores = sc.scores;
      await Promise.all([drawTimeCharts(), drawHolders(), drawTrades()]);
      document.body.dataset.ready = "1";
    } catch (err) {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = `This page could not load its data: ${err.message}`;
      document.querySelector("main").prepend(p);
      document.body.dataset.ready = "error";
    }
  }
  bindButtons("button.interval", "interval");
  bindButtons("button.quote", "quote");
  main();
})();
