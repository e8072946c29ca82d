// Web chat client: renders bot messages as text (never HTML), sends taps and questions, receives
// later messages (staff answers, reminders, broadcasts) over Server-Sent Events and resumes from
// the last event id after a reconnect, and offers the menu, language, text size and notifications.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const statusBox = document.getElementById("status");
  const menu = document.getElementById("menu");
  const menuButton = document.getElementById("menu-button");
  const station = document.body.dataset.station;
  const phone = document.body.dataset.phone;
  const chrome = JSON.parse(document.getElementById("chrome").textContent);
  const SIZES = [17, 20, 23, 26, 30];
  const SOURCE = /^(Nguồn|Source)\b/;
  const URL_RE = /(https?:\/\/[^\s<>"')]+)/g;
  const seen = new Set();
  let lang = stored("hb_lang") || ((navigator.language || "vi").toLowerCase().indexOf("en") === 0 ? "en" : "vi");
  let unread = 0;
  let cursor = 0;

  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function t(key) { return (chrome[lang] && chrome[lang][key]) || chrome.vi[key] || ""; }

  function applyChrome() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.dataset.t); });
    document.querySelectorAll("[data-t-label]").forEach(function (el) { el.setAttribute("aria-label", t(el.dataset.tLabel)); });
    document.querySelectorAll("[data-t-placeholder]").forEach(function (el) { el.placeholder = t(el.dataset.tPlaceholder); });
    updateTitle();
  }
  function updateTitle() {
    const base = station + " – " + t("title");
    document.title = unread ? "(" + unread + ") " + base : base;
  }
  function setSize(index) {
    index = Math.max(0, Math.min(SIZES.length - 1, index));
    document.documentElement.style.fontSize = SIZES[index] + "px";
    store("hb_size", String(index));
    return index;
  }
  let size = setSize(stored("hb_size") === null ? 1 : Number(stored("hb_size")));

  function showStatus(text) {
    statusBox.textContent = text;
    statusBox.hidden = !text;
  }
  function offline() { showStatus(t("offline")); }

  // Text with tappable links, built from text nodes and <a> elements only.
  function fill(el, text) {
    text.split(URL_RE).forEach(function (part, i) {
      if (i % 2 === 1) {
        const a = document.createElement("a");
        a.href = part;
        a.textContent = part;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        el.appendChild(a);
      } else if (part) {
        el.appendChild(document.createTextNode(part));
      }
    });
  }

  function splitSource(text, source) {
    if (source && text.endsWith(source)) {
      return [text.slice(0, text.length - source.length).trimEnd(), source];
    }
    const parts = text.split("\n\n");
    if (parts.length > 1 && SOURCE.test(parts[parts.length - 1])) {
      return [parts.slice(0, -1).join("\n\n"), parts[parts.length - 1]];
    }
    return [text, null];
  }

  function disableOldButtons() {
    log.querySelectorAll(".buttons button").forEach(function (b) { b.disabled = true; });
  }

  function addMessage(m) {
    const who = m.from === "me" ? "me" : "bot";
    const div = document.createElement("div");
    div.className = "msg " + who;
    if (who === "bot") {
      const parts = splitSource(m.text || "", m.source);
      const body = document.createElement("div");
      body.className = "body";
      fill(body, parts[0]);
      div.appendChild(body);
      if (parts[1]) {
        const details = document.createElement("details");
        details.className = "source";
        const summary = document.createElement("summary");
        summary.textContent = parts[1];
        const full = document.createElement("div");
        fill(full, parts[1]);
        details.appendChild(summary);
        details.appendChild(full);
        div.appendChild(details);
      }
    } else {
      div.textContent = m.text;
    }
    log.appendChild(div);
    if (m.buttons && m.buttons.length) {
      disableOldButtons();
      const box = document.createElement("div");
      box.className = "buttons";
      box.setAttribute("role", "group");
      m.buttons.forEach(function (row) {
        row.forEach(function (b) {
          const btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = b.label;
          btn.addEventListener("click", function () { send({ button: b.data }, b.label); });
          box.appendChild(btn);
        });
      });
      log.appendChild(box);
    }
    return div;
  }

  // A new answer is shown from its first line (the resident reads down), not from its end.
  function reveal(el) {
    if (el) el.scrollIntoView({ block: "start" });
  }
  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function arrived(m) {
    if (m.id) {
      if (seen.has(m.id)) return null;
      seen.add(m.id);
      cursor = Math.max(cursor, m.id);
    }
    const el = addMessage(m);
    if (document.hidden) { unread += 1; updateTitle(); }
    return el;
  }

  async function send(payload, echo) {
    if (echo) { addMessage({ from: "me", text: echo }); scrollToEnd(); }
    disableOldButtons();
    payload.lang = lang;
    try {
      const res = await fetch("/api/message", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(payload),
      });
      const data = await res.json().catch(function () { return {}; });
      if (!res.ok) {
        showStatus(data.error || t("error"));
        return;
      }
      showStatus("");
      let first = null;
      (data.messages || []).forEach(function (m) {
        m.from = "bot";
        const el = addMessage(m);
        first = first || el;
      });
      reveal(first);
    } catch (err) {
      offline();
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text }, text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });

  // -- menu --
  function openMenu(open) {
    menu.hidden = !open;
    menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { const first = menu.querySelector("button"); if (first) first.focus(); }
    else menuButton.focus();
  }
  menuButton.addEventListener("click", function () { openMenu(menu.hidden); });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !menu.hidden) openMenu(false); });
  menu.addEventListener("click", function (ev) {
    const item = ev.target.closest("button[data-action]");
    if (!item) return;
    const action = item.dataset.action;
    if (action === "smaller" || action === "larger") {
      size = setSize(size + (action === "larger" ? 1 : -1));
      return;
    }
    openMenu(false);
    if (action === "main_menu") send({ button: "menu" }, t("main_menu"));
    else if (action === "my_data") send({ text: "/dulieu" }, t("my_data"));
    else if (action === "language") {
      lang = lang === "vi" ? "en" : "vi";
      store("hb_lang", lang);
      applyChrome();
      send({ text: "/ngonngu " + lang }, lang === "en" ? "English" : "Tiếng Việt");
    } else if (action === "notify") enableNotifications();
  });

  // -- live delivery: Server-Sent Events, resumed from the last event id --
  function openStream() {
    if (!window.EventSource) return;
    const stream = new EventSource("/api/events?after=" + cursor);
    stream.addEventListener("message", function (ev) {
      let m;
      try { m = JSON.parse(ev.data); } catch (err) { return; }
      reveal(arrived(m));
    });
    stream.addEventListener("open", function () {
      if (statusBox.textContent === t("reconnecting")) showStatus("");
    });
    stream.addEventListener("error", function () {
      if (stream.readyState === EventSource.CONNECTING) showStatus(t("reconnecting"));
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && unread) { unread = 0; updateTitle(); }
  });

  // -- notifications with the page closed (Web Push) --
  function keyBytes(base64url) {
    const pad = "=".repeat((4 - (base64url.length % 4)) % 4);
    const raw = atob((base64url + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }
  async function enableNotifications() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) {
      showStatus(t("notify_unsupported"));
      return;
    }
    const permission = await Notification.requestPermission();
    if (permission !== "granted") { showStatus(t("notify_blocked")); return; }
    try {
      const reg = await navigator.serviceWorker.ready;
      const key = (await (await fetch("/api/push/key")).json()).publicKey;
      const sub = (await reg.pushManager.getSubscription()) ||
        (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
      const res = await fetch("/api/push/subscribe", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(sub.toJSON()),
      });
      const data = await res.json().catch(function () { return {}; });
      showStatus(res.ok ? t("notify_on") : (data.error || t("error")));
    } catch (err) {
      showStatus(t("notify_unsupported"));
    }
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* the chat works without it */ });
  }

  async function start() {
    applyChrome();
    try {
      const res = await fetch("/api/history", { credentials: "same-origin" });
      const data = await res.json();
      cursor = data.cursor || 0;
      (data.messages || []).forEach(function (m) { if (m.id) seen.add(m.id); addMessage(m); });
      scrollToEnd();
      openStream();
      // A station's own link (?start=XUANLA or ?start=XUANLA_TDP1, docs/stations.md) names the
      // station and the area on the first visit, like a Telegram deep link.
      const link = (new URLSearchParams(location.search).get("start") || "")
        .replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
      if (!(data.messages && data.messages.length)) send({ text: link ? "/start " + link : "/start" });
    } catch (err) {
      offline();
    }
  }
  start();
})();
