// Web chat client: renders bot messages as text (never HTML) and sends taps and questions.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const statusBox = document.getElementById("status");
  const phone = statusBox.dataset.phone;

  function showStatus(text) {
    statusBox.textContent = text;
    statusBox.hidden = !text;
  }

  function disableOldButtons() {
    log.querySelectorAll(".buttons button").forEach(function (b) { b.disabled = true; });
  }

  function addMessage(who, text, buttons) {
    const div = document.createElement("div");
    div.className = "msg " + (who === "me" ? "me" : "bot");
    div.textContent = text;
    log.appendChild(div);
    if (buttons && buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      buttons.forEach(function (row) {
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
    window.scrollTo(0, document.body.scrollHeight);
  }

  async function send(payload, echo) {
    if (echo) addMessage("me", echo);
    disableOldButtons();
    try {
      const res = await fetch("/api/message", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(payload),
      });
      const data = await res.json().catch(function () { return {}; });
      if (!res.ok) {
        showStatus(data.error || "Có lỗi xảy ra. Vui lòng thử lại.");
        return;
      }
      showStatus("");
      (data.messages || []).forEach(function (m) { addMessage("bot", m.text, m.buttons); });
    } catch (err) {
      showStatus("Không kết nối được với máy chủ. Vui lòng thử lại sau, hoặc gọi Trạm Y tế: " +
        phone + ". Cấp cứu: 115.");
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

  async function start() {
    try {
      const res = await fetch("/api/history", { credentials: "same-origin" });
      const data = await res.json();
      if (data.messages && data.messages.length) {
        data.messages.forEach(function (m) { addMessage(m.from, m.text, m.buttons); });
        return;
      }
    } catch (err) {
      showStatus("Không kết nối được với máy chủ. Vui lòng thử lại sau, hoặc gọi Trạm Y tế: " +
        phone + ". Cấp cứu: 115.");
      return;
    }
    send({ text: "/start" });
  }
  start();
})();
