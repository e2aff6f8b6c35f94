// Inngang web chat: anonymous by default. The only thing kept in the browser is a resumable
// token the server issued (no name, no number), so a reload or a lost connection loses
// nothing. The token travels in the X-Chat-Token header, never in an address; when the
// server no longer knows it (401), the page drops it and gets a new one.
//
// Every word on the page comes from the server's catalogs (#ui-texts). Links come only from
// the server's "parts" (the municipality's facts from config.yml); the citizen's own text is
// never made a link. The conversation is the only part of the page that scrolls: the input
// sits below it and never covers the newest message or a focused button.
(function () {
  "use strict";
  var ui = JSON.parse(document.getElementById("ui-texts").textContent);
  var log = document.getElementById("log");
  var typing = document.getElementById("typing");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var picker = document.getElementById("language");
  var statusLine = document.getElementById("status");
  var attach = document.getElementById("attach");
  // An area's chat (/a/<area>/) keeps its own token: a conversation belongs to one area.
  var AREA = ui._area || "";
  var KEY = "inngang-token" + (AREA ? "-" + AREA : "");
  var OUTBOX = "inngang-outbox" + (AREA ? "-" + AREA : "");
  // In another site's frame the browser may refuse storage (third-party blocking): then the
  // chat works as well, only a reload starts afresh.
  var storage = (function () {
    try { localStorage.getItem(KEY); return localStorage; } catch (e) {
      var kept = {};
      return { getItem: function (k) { return k in kept ? kept[k] : null; },
               setItem: function (k, v) { kept[k] = String(v); },
               removeItem: function (k) { delete kept[k]; } };
    }
  })();
  var token = storage.getItem(KEY) || "";
  var outbox = JSON.parse(storage.getItem(OUTBOX) || "[]");
  var language = document.documentElement.lang;
  var SAFE_LINK = /^(tel:\+?[0-9]+|mailto:[^\s:<>"]+|https:\/\/[^\s<>"]+)$/;
  var NUMBER = /[+]?[0-9\u0660-\u0669\u06f0-\u06f9]+(?:[ \-.][0-9\u0660-\u0669\u06f0-\u06f9]+)*/g;

  function t(key) { return (ui[language] || ui[ui._default])[key] || ""; }
  function isRtl(lang) { return ui._rtl.indexOf(lang) >= 0; }

  // --- language -------------------------------------------------------------------------
  function browserLanguage() {
    var wanted = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).toLowerCase().split("-")[0];
      if (code === "no") code = "nb";
      if (ui[code] && code.charAt(0) !== "_") return code;
    }
    return null;
  }
  function setLanguage(lang) {
    if (!lang || !ui[lang] || lang.charAt(0) === "_" || lang === language) return;
    language = lang;
    document.documentElement.lang = lang;
    document.documentElement.dir = isRtl(lang) ? "rtl" : "ltr";
    picker.value = lang;
    input.placeholder = t("placeholder");
    attach.setAttribute("aria-label", t("attach"));
    var texts = { "send": "send", "chat-title": "title", "message-label": "input_label",
                  "language-label": "language", "typing-text": "typing" };
    Object.keys(texts).forEach(function (id) {
      document.getElementById(id).textContent = t(texts[id]);
    });
    var footer = document.getElementById("emergency");
    footer.textContent = "";
    footer.appendChild(linked(t("emergency_parts")));
    log.setAttribute("aria-label", t("log_label"));
    document.title = t("title");
    Array.prototype.forEach.call(log.querySelectorAll(".sender"), function (who) {
      who.textContent = t("sender_" + who.getAttribute("data-sender"));
    });
    Array.prototype.forEach.call(log.querySelectorAll(".badge"), function (badge) {
      badge.textContent = t("crisis");
    });
    var welcome = log.querySelector(".welcome");
    if (welcome && !welcome.querySelector("button:disabled")) { welcome.remove(); showWelcome(); }
  }
  picker.addEventListener("change", function () {
    var chosen = picker.value;
    setLanguage(chosen);
    if (token) choose(ui._names[chosen], "lang:" + chosen);  // the conversation switches too
  });

  // --- rendering ------------------------------------------------------------------------
  function status(text) { statusLine.textContent = text || ""; }

  function linked(parts) {
    var all = document.createDocumentFragment();
    (parts || []).forEach(function (part) {
      if (part.href && SAFE_LINK.test(part.href)) {
        var a = document.createElement("a");
        a.href = part.href;
        a.dir = "ltr";
        // A long address may break after @ . / rather than anywhere.
        part.text.split(/(?<=[@./])/).forEach(function (piece, i) {
          if (i) a.appendChild(document.createElement("wbr"));
          a.appendChild(document.createTextNode(piece));
        });
        all.appendChild(a);
      } else {
        all.appendChild(document.createTextNode(part.text));
      }
    });
    return all;
  }
  // The citizen's words, as typed: numbers are kept left to right inside any text (a phone
  // number in Arabic reads 41 22 33 44, not 44 33 22 41), nothing becomes a link.
  function ownWords(text) {
    var all = document.createDocumentFragment();
    var at = 0;
    text.replace(NUMBER, function (match, offset) {
      if (match.replace(/\D/g, "").length < 4) return match;
      all.appendChild(document.createTextNode(text.slice(at, offset)));
      var span = document.createElement("span");
      span.className = "num";
      span.dir = "ltr";
      span.textContent = match;
      all.appendChild(span);
      at = offset + match.length;
      return match;
    });
    all.appendChild(document.createTextNode(text.slice(at)));
    return all;
  }

  function timeOf(iso) {
    var when = iso ? new Date(iso) : new Date();
    var el = document.createElement("time");
    el.dateTime = when.toISOString();
    var options = { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Oslo", numberingSystem: "latn" };
    var day = { day: "numeric", month: "short", timeZone: "Europe/Oslo" };
    try {
      var today = new Intl.DateTimeFormat("en", day).format(new Date());
      if (new Intl.DateTimeFormat("en", day).format(when) !== today) {
        options.day = "numeric";
        options.month = "short";
      }
      var locale = language === "en" ? "en-GB" : language;  // 24 hours, as in Norway
      el.textContent = new Intl.DateTimeFormat(locale, options).format(when);
    } catch (e) {
      el.textContent = when.toTimeString().slice(0, 5);
    }
    return el;
  }

  function meta(message) {
    var line = document.createElement("span");
    line.className = "meta";
    if (message.crisis) {
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = t("crisis");
      line.appendChild(badge);
    }
    var who = document.createElement("span");
    who.className = "sender";
    who.setAttribute("data-sender", message.sender);
    who.textContent = t("sender_" + message.sender);
    line.appendChild(who);
    line.appendChild(timeOf(message.time));
    return line;
  }

  function disableChoices() {
    Array.prototype.forEach.call(log.querySelectorAll(".choices button"), function (b) {
      b.disabled = true;
    });
    Array.prototype.forEach.call(log.querySelectorAll(".choices.live"), function (group) {
      group.classList.remove("live");
    });
    log.style.scrollPaddingBottom = "";
  }

  function choices(message) {
    var group = document.createElement("div");
    group.className = message.live ? "choices live" : "choices";
    group.setAttribute("role", "group");
    message.buttons.forEach(function (button) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = button.label;
      b.setAttribute("data-payload", button.payload);
      b.disabled = !message.live;
      if (message.chosen === button.payload) b.setAttribute("aria-pressed", "true");
      b.addEventListener("click", function () {
        if (b.disabled) return;  // a double tap posts once
        choose(button.label, button.payload, b);
      });
      group.appendChild(b);
    });
    return group;
  }

  // fresh: it arrives now (a crisis answer is announced at once); from history it is not.
  function render(message, fresh) {
    var item = document.createElement("li");
    if (message.receipt) {
      item.className = "receipt";
      item.appendChild(document.createTextNode(message.text + " "));
      item.appendChild(timeOf(message.time));
      log.insertBefore(item, typing);
      return item;
    }
    item.className = "msg " + message.sender + (message.crisis ? " crisis" : "");
    if (message.language) {
      item.lang = message.language;
      item.dir = isRtl(message.language) ? "rtl" : "ltr";
    }
    item.appendChild(meta(message));
    var body = document.createElement("div");
    body.className = "text";
    if (message.sender === "me") {
      body.dir = "auto";
      item.removeAttribute("dir");
      item.removeAttribute("lang");
      body.appendChild(ownWords(message.text));
    } else {
      body.appendChild(linked(message.parts || [{ text: message.text }]));
    }
    if (message.crisis && fresh) body.setAttribute("role", "alert");
    item.appendChild(body);
    if (message.buttons && message.buttons.length) item.appendChild(choices(message));
    log.insertBefore(item, typing);
    return item;
  }

  // The newest message and its choices fully in view; a message taller than the
  // conversation shows from its top, its live choices held at the bottom (sticky).
  function reveal(item) {
    if (!item) return;
    // Live choices stay at the bottom of the view while their message scrolls (what is
    // focused is never under them), unless they would take half of it: then they scroll too.
    var live = log.querySelector(".choices.live");
    if (live) live.classList.toggle("tall", live.offsetHeight > log.clientHeight / 2);
    var held = live && !live.classList.contains("tall");
    log.style.scrollPaddingBottom = held ? live.offsetHeight + 12 + "px" : "";
    var box = log.getBoundingClientRect();
    var it = item.getBoundingClientRect();
    if (it.height > box.height - 24) log.scrollTop += it.top - box.top - 12;
    else log.scrollTop = log.scrollHeight;
  }

  function show(messages, fresh) {
    var last = null;
    // Only the choices offered last can be pressed (all those of one answer).
    if (messages.some(function (m) { return m.live; })) disableChoices();
    messages.forEach(function (m) {
      if (m.sender !== "me" && !m.receipt) setLanguage(m.language);
      last = render(m, fresh);
    });
    reveal(last);
    return last;
  }

  // The first screen; answered (its choices no longer live) above a restored conversation.
  function showWelcome(answered) {
    var item = render({
      sender: "bot", language: language, live: !answered, chosen: answered && answered.pressed,
      text: t("welcome") + "\n" + t("intro"),
      buttons: [{ label: t("start_services"), payload: "services" },
                { label: t("start_person"), payload: "person" },
                { label: t("start_anonymous"), payload: "anon" }]
    }, false);
    item.classList.add("welcome");
    reveal(item);
  }

  // --- talking to the server -------------------------------------------------------------
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
    if (newToken && newToken !== token) { token = newToken; storage.setItem(KEY, token); }
  }
  function forget() { token = ""; storage.removeItem(KEY); }
  function saveOutbox() { storage.setItem(OUTBOX, JSON.stringify(outbox)); }

  // One message in flight at a time, in order: a second flush (from the poll, or the
  // browser coming back online) waits for the first, so nothing is posted twice or
  // dropped, and a new visitor's second message carries the token the first one got.
  // A retried message keeps its id; the server answers it again from what it recorded.
  var flushing = null;
  function flush() {
    if (!flushing) {
      flushing = drain().then(function () {
        flushing = null;
        if (!losIsTyping) typing.hidden = true;
      });
    }
    return flushing;
  }
  function drain() {
    if (!outbox.length) return Promise.resolve();
    var next = outbox[0];
    losIsTyping = false;
    document.getElementById("typing-text").textContent = t("typing");
    typing.hidden = false;
    reveal(typing);
    return api("POST", "/api/chat", next).then(function (data) {
      outbox.shift();
      saveOutbox();
      remember(data.token);
      status("");
      typing.hidden = true;
      var mine = log.querySelector("[data-id='" + next.id + "'] time");  // the server's time
      if (mine && data.time) mine.replaceWith(timeOf(data.time));
      var last = show(data.replies, true);
      if (next.button && !outbox.length) focusAfterPress(last);
      return drain();
    }, function (error) {
      if (error instanceof TokenRefused) return drain();  // again, with a new token
      typing.hidden = true;
      status(t("offline"));
    });
  }
  // After a press, the keyboard goes on where the answer is: its first choice, or the input
  // when the answer asks for words (its only choices are a way out). Never away from the
  // input once the citizen has started typing there: a late answer must not turn their
  // Enter into a press of "Avbryt".
  function focusAfterPress(last) {
    if (document.activeElement === input) { reveal(last); return; }
    var live = last && last.querySelector(
      ".choices button:not(:disabled):not([data-payload='intake:cancel'])");
    (live || input).focus({ preventScroll: true });
    reveal(last);
  }

  function send(body, mine) {
    body.id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    if (mine) mine.setAttribute("data-id", body.id);
    body.language = language;
    if (AREA) body.area = AREA;
    outbox.push(body);
    saveOutbox();
    return flush();
  }

  function choose(label, payload, pressed) {
    disableChoices();
    if (pressed) pressed.setAttribute("aria-pressed", "true");
    var mine = render({ sender: "me", text: label }, true);
    reveal(mine);
    send({ button: payload, label: label }, mine);
  }

  // The familielos is writing (the console says so while she types): the same indicator
  // as the bot's, with her words, until her message comes or she stops.
  var losIsTyping = false;
  function losTyping(on) {
    if (on === losIsTyping || flushing) return;
    losIsTyping = on;
    document.getElementById("typing-text").textContent = t(on ? "los_typing" : "typing");
    typing.hidden = !on;
    if (on) reveal(typing);
  }

  function poll() {
    if (!token) return;
    api("POST", "/api/poll").then(function (data) {
      status("");
      if (data.messages.length) show(data.messages, true);
      losTyping(Boolean(data.los_typing) && !data.messages.length);
      flush();
    }, function (error) {
      if (!(error instanceof TokenRefused)) status(t("offline"));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    disableChoices();
    var mine = render({ sender: "me", text: text }, true);
    reveal(mine);
    input.value = "";
    send({ text: text }, mine);
  });
  // A photo or PDF (the paper clip): sent after what is waiting, once; never kept in the
  // browser. The server decides what it is from its bytes and answers like a message.
  attach.addEventListener("change", function () {
    var file = attach.files && attach.files[0];
    attach.value = "";
    if (!file) return;
    disableChoices();
    var mine = render({ sender: "me", text: t("attach_sent") }, true);
    reveal(mine);
    flush().then(function () {
      var body = new FormData();
      body.append("file", file);
      body.append("language", language);
      if (AREA) body.append("area", AREA);
      body.append("id", Date.now().toString(36) + Math.random().toString(36).slice(2, 8));
      var headers = {};
      if (token) headers["X-Chat-Token"] = token;
      typing.hidden = false;
      reveal(typing);
      return fetch("/api/upload", { method: "POST", headers: headers, body: body, cache: "no-store" });
    }).then(function (r) {
      if (r.status === 401) { forget(); throw new Error("token"); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      typing.hidden = true;
      remember(data.token);
      status("");
      var stamp = mine.querySelector("time");  // the server's time, as for a message
      if (stamp && data.time) stamp.replaceWith(timeOf(data.time));
      show(data.replies, true);
    }, function () {
      typing.hidden = true;
      status(t("offline"));
    });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  function unsent() {  // what was written before a reload and not yet answered
    outbox.forEach(function (body) { render({ sender: "me", text: body.text || body.label || "" }, false); });
  }

  if (!ui._fixed && !token) setLanguage(browserLanguage());
  // A link from a young person who invited this visitor (#join=CODE): the code is the first
  // message, sent once. The fragment never reaches the server; it is cleared at once.
  var joining = /^#join=([A-Za-z0-9]{4}-?[A-Za-z0-9]{4})$/.exec(location.hash);
  if (joining) {
    history.replaceState(null, "", location.pathname + location.search);
    outbox.push({ text: joining[1], language: language,
                  id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8) });
    saveOutbox();
  }
  if (token) {
    api("GET", "/api/history").then(function (data) {
      var first = data.messages[0];
      if (first) setLanguage(first.language);
      if (data.messages.length || outbox.length) showWelcome(first || {});
      else showWelcome();
      show(data.messages, false);
      unsent();
      flush();
    }, function (error) {
      if (error instanceof TokenRefused) { showWelcome(); unsent(); flush(); }
      else status(t("offline"));
    });
  } else {
    showWelcome();
    unsent();
    flush();
  }
  // In the embed panel (another site's page), the panel's header has the title, and Escape
  // closes the panel.
  if (window.parent !== window) document.documentElement.classList.add("framed");
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && window.parent !== window) window.parent.postMessage("inngang:escape", "*");
  });
  setInterval(poll, 2000);
  window.addEventListener("online", flush);
})();
