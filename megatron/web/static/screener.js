// The screener: rows from /api/tokens, sorted and filtered on the server, refreshed every 30 s.
(function () {
  "use strict";
  const form = document.getElementById("filters");
  const body = document.querySelector("#screener tbody");
  const status = document.getElementById("status");
  const REFRESH_MS = 30000;

  const num = (v, digits) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("en-US", {maximumFractionDigits: digits}));
  const usd = (v) => (v === null || v === undefined ? "—" : "$" + Number(v).toLocaleString("en-US", {maximumFractionDigits: 0}));
  const age = (h) => (h === null || h === undefined ? "—" : h < 1 ? Math.round(h * 60) + "m" : h < 48 ? h.toFixed(1) + "h" : (h / 24).toFixed(1) + "d");
  const esc = (s) => String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

  function params() {
    const out = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim() !== "") out.set(k, String(v).trim());
    return out;
  }

  function breakdown(detail) {
    if (!detail) return "";
    const lines = [];
    const walk = (obj, prefix) => {
      for (const [k, v] of Object.entries(obj)) {
        if (v !== null && typeof v === "object") walk(v, prefix + k + ".");
        else if (/score|ratio|progress|velocity|concentration/.test(k) && v !== null) lines.push(prefix + k + ": " + v);
      }
    };
    walk(detail, "");
    return lines.join("\n");
  }

  function signals(sig) {
    if (!sig) return "—";
    const parts = [];
    if (sig.sniper_count !== undefined) parts.push("snipers " + sig.sniper_count);
    if (sig.bundled_buy_wallets !== undefined) parts.push("bundles " + sig.bundled_buy_wallets);
    if (sig.creator_sold !== undefined) parts.push(sig.creator_sold ? "creator sold" : "creator holds");
    return parts.join(" · ") || "—";
  }

  function risk(r) {
    if (!r) return "—";
    return esc(r.risk_level || "—");
  }

  function render(data) {
    body.innerHTML = data.tokens.map((t, i) => `
      <tr data-mint="${esc(t.token_mint)}">
        <td>${i + 1}</td>
        <td class="token"><a href="/token/${encodeURIComponent(t.token_mint)}">${esc(t.symbol || t.token_mint.slice(0, 8))}</a>
            <span class="muted">${esc(t.name || "")}</span></td>
        <td class="total" data-value="${t.total_score ?? ""}" title="${esc(breakdown(t.score_detail))}">${num(t.total_score, 1)}</td>
        <td class="technical">${num(t.technical_score, 1)}</td>
        <td class="holder">${num(t.holder_score, 1)}${t.holder_missing ? ' <span class="flag">missing</span>' : ""}${t.holder_stale ? ' <span class="flag">stale</span>' : ""}</td>
        <td class="social">${num(t.social_score, 1)}</td>
        <td class="progress" data-value="${t.bonding_curve_progress ?? ""}"><div class="bar"><span style="width:${Math.max(0, Math.min(100, Number(t.bonding_curve_progress) || 0))}%"></span></div>${num(t.bonding_curve_progress, 1)}%</td>
        <td class="mcap" data-value="${t.market_cap_usd ?? ""}">${usd(t.market_cap_usd)}</td>
        <td class="volume" data-value="${t.volume_24h_usd ?? ""}">${usd(t.volume_24h_usd)}</td>
        <td class="holders" data-value="${t.holder_count ?? ""}">${num(t.holder_count, 0)}</td>
        <td class="age" data-value="${t.age_hours ?? ""}">${age(t.age_hours)}</td>
        <td class="risk">${risk(t.risk)}</td>
        <td class="signals">${esc(signals(t.signals))}</td>
      </tr>`).join("");
    const sort = form.elements.sort.value, dir = form.elements.dir.value;
    document.querySelectorAll("#screener th[data-sort]").forEach((th) => {
      th.classList.toggle("sorted", th.dataset.sort === sort);
      th.dataset.dir = th.dataset.sort === sort ? dir : "";
    });
    const built = data.built ? new Date(data.built).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "never";
    status.textContent = `${data.tokens.length} tokens · marts built ${built} · scores: ${data.score_source} · sorted by ${sort} ${dir}`;
    document.body.dataset.loaded = String(Date.now());
  }

  async function load() {
    const q = params();
    history.replaceState(null, "", "/?" + q.toString());
    const res = await fetch("/api/tokens?" + q.toString());
    const data = await res.json();
    if (!res.ok) {
      status.textContent = data.error || "The screener could not be loaded.";
      status.classList.add("error");
      return;
    }
    status.classList.remove("error");
    render(data);
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.querySelectorAll("#screener th[data-sort]").forEach((th) => {
    th.addEventListener("click", () => {
      const same = form.elements.sort.value === th.dataset.sort;
      form.elements.dir.value = same && form.elements.dir.value === "desc" ? "asc" : "desc";
      form.elements.sort.value = th.dataset.sort;
      load();
    });
  });
  load();
  setInterval(load, REFRESH_MS);
})();
