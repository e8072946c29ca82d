// Service worker of the web chat: shows Web Push notifications and opens the chat when tapped.
// It caches nothing: the page needs the server to chat, and a stale page could show stale advice.
"use strict";
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = {}; }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (pages) {
      // An open, visible chat page already shows the message: no notification then.
      if (pages.some(function (p) { return p.visibilityState === "visible"; })) return undefined;
      return self.registration.showNotification(data.title || "", {
        body: data.body || "",
        icon: "/static/icon-192.png",
        badge: "/static/icon-192.png",
        tag: "healthbot-" + (data.id || "message"),
        data: { url: data.url || "/" },
      });
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (pages) {
      for (const page of pages) {
        if ("focus" in page) return page.focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
