// The service worker of the public site: shows a new post's notification
// (a Declarative Web Push message: {web_push: 8030, notification: {...}}) and
// opens the post when it is clicked.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { notification: { title: "New post", body: event.data ? event.data.text() : "" } };
  }
  const n = message.notification || {};
  event.waitUntil(
    self.registration.showNotification(n.title || "New post", {
      body: n.body || "",
      icon: n.icon,
      tag: n.tag,
      lang: n.lang,
      data: { url: n.navigate || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || "/";
  event.waitUntil(self.clients.openWindow(url));
});

self.addEventListener("pushsubscriptionchange", (event) => {
  // The push service replaced the subscription: tell the server the new one, forget the old.
  const old = event.oldSubscription;
  const next = event.newSubscription;
  event.waitUntil(
    Promise.all([
      old &&
        fetch("/push/subscriptions", {
          method: "DELETE",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(old.toJSON()),
        }),
      next &&
        fetch("/push/subscriptions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(next.toJSON()),
        }),
    ]),
  );
});
