// The rep console around the chat (chat.js): tabs, account search and cards, the dashboard.
// Everything from the CRM is inserted with textContent (or SVG text nodes), never innerHTML:
// an account or deal name holding markup shows as text.
"use strict";

(function () {
  if (document.body.dataset.mode !== "rep") return;
  const TOKEN_KEY = "crm.rep.token";
  const $ = (id) => document.getElementById(id);
  const TABS = ["chat", "accounts", "dashboard"];
  let me = null;
  let knownAccounts = [];
  let dashboardLoaded = false;

  // ---- small helpers ----
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function money(amount, currency) {
    const value = Number(amount);
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency: currency || "USD", maximumFractionDigits: 0 }).format(value);
    } catch (err) {
      return value.toFixed(0) + " " + (currency || "");
    }
  }

  function compactMoney(value) {
    return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(value);
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : Math.round(value * 100) + "%";
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds === 0) return "0 s";
    if (seconds < 10) return seconds.toFixed(1) + " s";
    if (seconds < 120) return Math.round(seconds) + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function dateText(iso) {
    if (!iso) return "–";
    const when = new Date(iso);
    return isNaN(when) ? iso : when.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
  }

  function count(value) {
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }

  function words(value) {
    return String(value || "").replace(/_/g, " ");
  }

  async function api(path) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    let response;
    try {
      response = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    } catch (err) {
      return { ok: false, status: 0, detail: "Cannot reach the server. Check your connection and try again." };
    }
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    if (response.status === 401) {
      document.dispatchEvent(new CustomEvent("crm:token-rejected"));
    }
    const detail = body && typeof body.detail === "string" ? body.detail : "The server could not answer (HTTP " + response.status + ").";
    return { ok: response.ok, status: response.status, body: body, detail: detail };
  }

  // ---- tabs (WAI-ARIA tabs: arrows move between them, Home/End jump) ----
  function selectTab(name, focus) {
    for (const tab of TABS) {
      const button = $("tab-" + tab);
      const selected = tab === name;
      button.setAttribute("aria-selected", selected ? "true" : "false");
      button.tabIndex = selected ? 0 : -1;
      $("panel-" + tab).hidden = !selected;
      if (selected && focus) button.focus();
    }
    if (name === "dashboard" && !dashboardLoaded) loadDashboard();
    // Arrow keys keep focus on the tabs; a click goes straight to the panel's input.
    if (!focus && name === "accounts") $("account-q").focus();
    if (!focus && name === "chat") $("text").focus();
  }

  function initTabs() {
    for (const tab of TABS) {
      $("tab-" + tab).addEventListener("click", () => selectTab(tab, false));
    }
    $("tabs").addEventListener("keydown", (event) => {
      const current = TABS.findIndex((tab) => $("tab-" + tab).getAttribute("aria-selected") === "true");
      const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: TABS.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length], true);
    });
  }

  // ---- accounts: search, results, card ----
  function setAccountMessage(text) {
    $("account-message").textContent = text || "";
  }

  async function searchAccounts(query) {
    setAccountMessage("Searching…");
    const result = await api("/v1/accounts?limit=20&q=" + encodeURIComponent(query));
    const list = $("account-results");
    list.replaceChildren();
    if (!result.ok) {
      setAccountMessage(result.detail);
      return;
    }
    const accounts = result.body.data || [];
    setAccountMessage(accounts.length ? accounts.length + " account(s) found." : "No account of yours matches “" + query + "”.");
    for (const account of accounts) {
      const item = el("li");
      const button = el("button", { type: "button", class: "result" });
      button.appendChild(el("span", { class: "result-name" }, account.name));
      button.appendChild(el("span", { class: "muted" }, [account.industry, account.country, account.status].filter(Boolean).join(" · ")));
      button.addEventListener("click", () => openCard(account.id));
      item.appendChild(button);
      list.appendChild(item);
    }
    if (accounts.length === 1) openCard(accounts[0].id);
  }

  async function openCard(accountId) {
    const card = $("account-card");
    card.hidden = false;
    card.replaceChildren(el("p", { class: "muted" }, "Loading the account card…"));
    const result = await api("/v1/accounts/" + encodeURIComponent(accountId) + "/card");
    if (!result.ok) {
      card.replaceChildren(el("p", { class: "error", role: "alert" }, result.status === 404 ? "That account is not one you can see." : result.detail));
      return;
    }
    renderCard(result.body);
  }

  function section(title) {
    const part = el("section", { class: "card-section" });
    part.appendChild(el("h3", {}, title));
    return part;
  }

  function factList(pairs) {
    const list = el("dl", { class: "facts" });
    for (const [name, value] of pairs) {
      list.appendChild(el("dt", {}, name));
      list.appendChild(el("dd", {}, value));
    }
    return list;
  }

  function table(headers, rows, caption) {
    const t = el("table");
    if (caption) t.appendChild(el("caption", { class: "visually-hidden" }, caption));
    const head = el("tr");
    for (const h of headers) head.appendChild(el("th", { scope: "col" }, h));
    t.appendChild(el("thead")).appendChild(head);
    const body = t.appendChild(el("tbody"));
    for (const row of rows) {
      const tr = el("tr");
      for (const cell of row) tr.appendChild(el("td", {}, cell));
      body.appendChild(tr);
    }
    return t;
  }

  function reasonList(title, reasons) {
    const box = el("div", { class: "reasons" });
    box.appendChild(el("h4", {}, title));
    if (!reasons.length) {
      box.appendChild(el("p", { class: "muted" }, "none"));
      return box;
    }
    const list = el("ul");
    for (const reason of reasons) {
      list.appendChild(el("li", {}, reason.text + " (" + (reason.effect > 0 ? "+" : "") + reason.effect.toFixed(2) + ")"));
    }
    box.appendChild(list);
    return box;
  }

  function churnSection(churn) {
    const part = section("Churn risk");
    if (!churn) {
      part.appendChild(el("p", { class: "muted" }, "No churn score for this account yet."));
      return part;
    }
    const head = el("p", { class: "churn-head" });
    head.appendChild(el("span", { class: "big" }, percent(churn.probability)));
    head.appendChild(el("span", { class: "badge risk-" + churn.risk }, churn.risk + " risk"));
    part.appendChild(head);
    const source = churn.live ? "scored just now" : "last batch score, " + dateText(churn.scored_at);
    part.appendChild(el("p", { class: "muted" }, "Model " + churn.model_version + " · " + source));
    const reasons = el("div", { class: "reason-columns" });
    reasons.appendChild(reasonList("Raises the risk", churn.raising));
    reasons.appendChild(reasonList("Lowers the risk", churn.lowering));
    part.appendChild(reasons);
    return part;
  }

  function actionSection(next) {
    const part = section("Next best action");
    if (!next) {
      part.appendChild(el("p", { class: "muted" }, "No advice available."));
      return part;
    }
    part.appendChild(el("p", { class: "action" }, next.action));
    part.appendChild(el("p", { class: "muted" }, "Why: " + next.why));
    if (next.recommendations.length) {
      const list = el("ul", { class: "offers" });
      for (const product of next.recommendations) list.appendChild(el("li", {}, product.name + " — " + product.text));
      part.appendChild(el("h4", {}, "What to offer"));
      part.appendChild(list);
    }
    return part;
  }

  function renderCard(card) {
    const root = $("account-card");
    root.replaceChildren();
    const header = el("header", { class: "account-head" });
    header.appendChild(el("h2", { id: "account-card-title" }, card.name));
    header.appendChild(el("span", { class: "badge" }, card.status));
    root.setAttribute("aria-labelledby", "account-card-title");
    root.appendChild(header);
    root.appendChild(factList([
      ["Owner", card.owner_name ? card.owner_name + (card.owner_email ? " <" + card.owner_email + ">" : "") : "–"],
      ["Industry", card.industry || "–"],
      ["Country", card.country || "–"],
      ["Segment", card.segment || "–"],
      ["Open pipeline", card.open_deal_count + " deal(s), " + money(card.open_deal_amount)],
      ["Last activity", card.last_activity_at ? dateText(card.last_activity_at) + " — " + (card.last_activity_subject || "") : "–"],
    ]));
    const grid = el("div", { class: "card-grid" });
    grid.appendChild(churnSection(card.churn));
    grid.appendChild(actionSection(card.next_action));
    root.appendChild(grid);
    const deals = section("Open deals");
    deals.appendChild(card.deals.length
      ? table(["Deal", "Stage", "Amount", "Closes"], card.deals.map((d) => [d.name, words(d.stage), money(d.amount, d.currency), dateText(d.close_date)]), "Open deals")
      : el("p", { class: "muted" }, "No open deals."));
    root.appendChild(deals);
    const tickets = section("Open tickets");
    tickets.appendChild(card.tickets.length
      ? table(["Ticket", "Subject", "Status", "Priority", "Opened"], card.tickets.map((t) => [t.number, t.subject, t.status, t.priority, dateText(t.created_at)]), "Open tickets")
      : el("p", { class: "muted" }, "No open tickets."));
    root.appendChild(tickets);
    for (const note of card.notes) root.appendChild(el("p", { class: "note" }, note));
  }

  // ---- dashboard ----
  function emptyState(figure, text) {
    figure.querySelectorAll(":scope > :not(figcaption)").forEach((node) => node.remove());
    figure.appendChild(el("p", { class: "empty" }, text));
  }

  function showChart(figure, svg) {
    figure.querySelectorAll(":scope > :not(figcaption)").forEach((node) => node.remove());
    figure.appendChild(svg);
  }

  function kpi(label, value, sub) {
    const tile = el("div", { class: "kpi" });
    tile.appendChild(el("span", { class: "kpi-value" }, value));
    tile.appendChild(el("span", { class: "kpi-label" }, label));
    if (sub) tile.appendChild(el("span", { class: "kpi-sub" }, sub));
    return tile;
  }

  function renderKpis(c) {
    const tiles = $("kpis");
    tiles.replaceChildren(
      kpi("Conversations", String(c.conversations), c.bot_turns + " bot turns"),
      kpi("Containment", percent(c.containment_rate), c.contained + " without a person"),
      kpi("Handoff rate", percent(c.handoff_rate), c.handed_off + " handed off"),
      kpi("Fallback rate", percent(c.fallback_rate), c.fallback_turns + " turns not understood"),
      kpi("CSAT", c.csat_average === null ? "–" : c.csat_average.toFixed(1) + " / 5", c.csat_count + " rating(s)"),
      kpi("Bot first response", duration(c.bot_response.median_seconds), "median; p90 " + duration(c.bot_response.p90_seconds)),
      kpi("Human first response", duration(c.human_response.median_seconds), "median; p90 " + duration(c.human_response.p90_seconds)),
    );
  }

  function renderPipeline(pipeline) {
    const figure = $("chart-pipeline");
    if (!pipeline.some((stage) => stage.count > 0)) return emptyState(figure, "No deals yet.");
    showChart(figure, CrmCharts.barChart({
      title: "Pipeline by stage: amount per stage",
      items: pipeline.map((stage) => ({
        label: words(stage.stage), value: Number(stage.amount), muted: !stage.is_open,
        display: compactMoney(Number(stage.amount)) + " (" + stage.count + ")",
      })),
      format: compactMoney,
    }));
    figure.appendChild(el("p", { class: "muted" }, "Amount per stage, deal count in brackets. Lighter bars: closed deals."));
  }

  function renderChurn(churn) {
    const figure = $("chart-churn");
    if (!churn.scored) return emptyState(figure, "No churn scores yet: run the batch scoring (crm demo run or crm predict score churn).");
    const svg = CrmCharts.barChart({
      title: "Churn-risk distribution: accounts per probability bucket",
      items: churn.buckets.map((b) => ({ label: Math.round(b.lower * 100) + "–" + Math.round(b.upper * 100) + "%", value: b.count, muted: b.lower < 0.3 })),
      format: count,
    });
    showChart(figure, svg);
    const labels = Object.entries(churn.by_label).map(([label, n]) => n + " " + label).join(", ");
    figure.appendChild(el("p", { class: "muted" }, churn.scored + " scored account(s)" + (labels ? ": " + labels : "") + (churn.unscored ? "; " + churn.unscored + " not scored" : "") + ". Lighter bars: below 30%, low risk."));
  }

  function renderSegments(segments) {
    const figure = $("chart-segments");
    if (!segments.length) return emptyState(figure, "No segments yet: accounts get one once they have orders and segment scoring ran.");
    showChart(figure, CrmCharts.hbarChart({
      title: "Customer segments: accounts per segment",
      items: segments.map((s) => ({ label: s.name, value: s.count })),
    }));
  }

  function renderResponse(c) {
    const figure = $("chart-response");
    const items = [
      ["Bot median", c.bot_response.median_seconds], ["Bot p90", c.bot_response.p90_seconds],
      ["Human median", c.human_response.median_seconds], ["Human p90", c.human_response.p90_seconds],
    ].filter(([, v]) => v !== null).map(([label, v]) => ({ label: label, value: v, display: duration(v) }));
    if (!items.length) return emptyState(figure, "No answered messages in this period.");
    showChart(figure, CrmCharts.barChart({ title: "First response time in seconds", items: items, format: (v) => duration(v) }));
  }

  function renderByRep(reps) {
    const box = $("by-rep");
    box.hidden = !reps.length;
    if (!reps.length) return;
    const rows = reps.map((r) => [
      r.name, String(r.accounts), String(r.open_deals), money(r.open_amount), String(r.high_risk_accounts),
      String(r.conversations.conversations), percent(r.conversations.containment_rate),
      percent(r.conversations.handoff_rate),
      r.conversations.csat_average === null ? "–" : r.conversations.csat_average.toFixed(1),
    ]);
    const newTable = table(["Rep", "Accounts", "Open deals", "Pipeline", "High risk", "Conversations", "Containment", "Handoffs", "CSAT"], rows, "Figures per rep");
    newTable.id = "by-rep-table";
    $("by-rep-table").replaceWith(newTable);
  }

  const COVERAGE = { own: "your accounts and conversations", team: "your team's accounts and conversations", all: "every account and conversation" };

  async function loadDashboard() {
    dashboardLoaded = true;
    const days = $("dashboard-days").value;
    $("dashboard-message").textContent = "Loading…";
    const result = await api("/v1/dashboard?days=" + encodeURIComponent(days));
    if (!result.ok) {
      $("dashboard-message").textContent = result.detail;
      dashboardLoaded = false;
      return;
    }
    const board = result.body;
    $("dashboard-message").textContent = "";
    $("dashboard-coverage").textContent = "Figures over " + (COVERAGE[board.coverage] || board.coverage) + " (" + board.accounts + " accounts).";
    renderKpis(board.conversations);
    renderPipeline(board.pipeline);
    renderChurn(board.churn);
    renderSegments(board.segments);
    renderResponse(board.conversations);
    renderByRep(board.by_rep);
  }

  // ---- account names in the assistant's replies open their card (bonus) ----
  async function loadKnownAccounts() {
    const result = await api("/v1/accounts?limit=100");
    knownAccounts = result.ok ? (result.body.data || []).slice().sort((a, b) => b.name.length - a.name.length) : [];
  }

  function offerCards(bubble) {
    const text = bubble.textContent || "";
    const found = [];
    for (const account of knownAccounts) {
      if (text.includes(account.name) && !found.some((f) => f.name.includes(account.name))) found.push(account);
    }
    if (!found.length) return;
    const row = el("div", { class: "card-links" });
    for (const account of found.slice(0, 3)) {
      const button = el("button", { type: "button", class: "link-button" }, "Open card: " + account.name);
      button.addEventListener("click", () => {
        selectTab("accounts", true);
        openCard(account.id);
      });
      row.appendChild(button);
    }
    bubble.appendChild(row);
  }

  function watchReplies() {
    new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        for (const node of mutation.addedNodes) {
          if (node.nodeType === 1 && node.classList.contains("bot") && !node.classList.contains("typing")) offerCards(node);
        }
      }
    }).observe($("log"), { childList: true });
  }

  // ---- sign-in state (driven by chat.js) ----
  function reset() {
    dashboardLoaded = false;
    knownAccounts = [];
    $("account-results").replaceChildren();
    $("account-card").replaceChildren();
    $("account-card").hidden = true;
    setAccountMessage("");
    $("kpis").replaceChildren();
    $("by-rep").hidden = true;
    $("dashboard-coverage").textContent = "";
    for (const id of ["chart-pipeline", "chart-churn", "chart-segments", "chart-response"]) {
      $(id).querySelectorAll(":scope > :not(figcaption)").forEach((node) => node.remove());
    }
  }

  document.addEventListener("crm:signed-in", (event) => {
    me = event.detail;
    reset();
    $("tabs").hidden = false;
    selectTab("chat", false);
    loadKnownAccounts();
  });

  document.addEventListener("crm:signed-out", () => {
    me = null;
    reset();
    $("tabs").hidden = true;
    for (const tab of TABS) $("panel-" + tab).hidden = true;
  });

  $("account-search").addEventListener("submit", (event) => {
    event.preventDefault();
    searchAccounts($("account-q").value.trim());
  });
  $("dashboard-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadDashboard();
  });
  $("dashboard-days").addEventListener("change", () => loadDashboard());
  initTabs();
  watchReplies();
  window.CrmConsole = { openCard: openCard, loadDashboard: loadDashboard, whoAmI: () => me };
})();
