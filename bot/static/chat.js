// Inngang web chat: anonymous by default. The only thing kept in the browser is a resumable
// token the server issued (no name, no number), so a reload or a lost connection loses
// nothing. The token travels in the X-Chat-Token header, never in an address; when the
// server no longer knows it (401), the page drops it and gets a new one.
(function () {
  "use strict";
  var ui = JSON.parse(document.getElementById("ui-texts").textContent);
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var statusLine = document.getElementById("status");
  var KEY = "inngang-token";
  var token = localStorage.getItem(KEY) || "";
  var outbox = JSON.parse(localStorage.getItem("inngang-outbox") || "[]");
  var language = document.documentElement.lang;
  var rtl = { ar: true };

  function t(key) { return (ui[language] || ui[ui._default])[key] || key; }
  function setLanguage(lang) {
    if (!lang || !ui[lang] || lang === language) return;
    language = lang;
    document.documentElement.lang = lang;
    document.documentElement.dir = rtl[lang] ? "rtl" : "ltr";
    input.placeholder = t("placeholder");
    var texts = { "send": "send", "chat-title": "title", "chat-intro": "intro",
                  "emergency": "emergency", "message-label": "input_label" };
    Object.keys(texts).forEach(function (id) {
      document.getElementById(id).textContent = t(texts[id]);
    });
    log.setAttribute("aria-label", t("log_label"));
    document.title = t("title");
    Array.prototype.forEach.call(log.querySelectorAll(".sender"), function (who) {
      who.textContent = t("sender_" + who.getAttribute("data-sender"));
    });
  }
  function status(text) { statusLine.textContent = text || ""; }

  function render(message) {
    if (message.receipt) {
      var note = document.createElement("li");
      note.className = "receipt";
      note.textContent = message.text;
      log.appendChild(note);
      return;
    }
    var item = document.createElement("li");
    item.className = "msg " + message.sender;
    item.dir = rtl[message.language] ? "rtl" : "auto";
    if (message.language) item.lang = message.language;
    var who = document.createElement("span");
    who.className = "sender";
    who.setAttribute("data-sender", message.sender);
    who.textContent = t("sender_" + message.sender);
    item.appendChild(who);
    var body = document.createElement("span");
    body.dir = "auto";
    body.textContent = message.text;
    item.appendChild(body);
    if (message.buttons && message.buttons.length) {
      var choices = document.createElement("div");
      choices.className = "choices";
      choices.setAttribute("role", "group");
      message.buttons.forEach(function (button) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = button.label;
        b.addEventListener("click", function () {
          render({ sender: "me", text: button.label });
          send({ button: button.payload });
        });
        choices.appendChild(b);
      });
      item.appendChild(choices);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function show(messages) {
    messages.forEach(function (m) { setLanguage(m.language); render(m); });
  }

  // A refused token is forgotten (the next message gets a new one); other failures are
  // "offline" and retried.
  function TokenRefused() {}
  function api(method, url, body) {
    var headers = {};
    if (token) headers["X-Chat-Token"] = token;
    var init = { method: method, headers: headers, cache: "no-store" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var sent = token;
    return fetch(url, init).then(function (r) {
      if (r.status === 401) {
        if (sent && sent === token) forget();
        throw new TokenRefused();
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function remember(newToken) {
    if (newToken && newToken !== token) { token = newToken; localStorage.setItem(KEY, token); }
  }
  function forget() { token = ""; localStorage.removeItem(KEY); }

  // One message in flight at a time, in order: a second flush (from the poll, or the
  // browser coming back online) waits for the first, so nothing is posted twice or
  // dropped, and a new visitor's second message carries the token the first one got.
  // A retried message keeps its id; the server answers it again from what it recorded.
  var flushing = null;
  function flush() {
    if (!flushing) {
      flushing = drain().then(function () { flushing = null; });
    }
    return flushing;
  }
  function drain() {
    if (!outbox.length) return Promise.resolve();
    var next = outbox[0];
    return api("POST", "/api/chat", next).then(function (data) {
      outbox.shift();
      localStorage.setItem("inngang-outbox", JSON.stringify(outbox));
      remember(data.token);
      status("");
      show(data.replies);
      return drain();
    }, function (error) {
      if (error instanceof TokenRefused) return drain();  // again, with a new token
      status(t("offline"));
    });
  }

  function send(body) {
    body.id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    outbox.push(body);
    localStorage.setItem("inngang-outbox", JSON.stringify(outbox));
    return flush();
  }

  function poll() {
    if (!token) return;
    api("POST", "/api/poll").then(function (data) { status(""); show(data.messages); flush(); },
                                  function (error) {
                                    if (!(error instanceof TokenRefused)) status(t("offline"));
                                  });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    render({ sender: "me", text: text });
    input.value = "";
    send({ text: text });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  if (token) {
    api("GET", "/api/history").then(function (data) { show(data.messages); flush(); },
                                    function (error) {
                                      if (error instanceof TokenRefused) flush();
                                      else status(t("offline"));
                                    });
  }
  setInterval(poll, 2000);
  window.addEventListener("online", flush);
})();
