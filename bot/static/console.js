// The staff console's one small script. The pages work without it; it only adds comfort.
// - The queue page keeps itself up to date: every data-poll seconds it asks data-live
//   (/staff/queue.json, with the ETag it last got: an unchanged queue costs a 304) and puts
//   the cases, the notices and who is on duty in place, keeping the focus where it was.
//   New cases, cases that became urgent, new messages from citizens, escalations and cases
//   handed to this los go into the list
//   "Nytt i køen" and are announced (urgent ones assertively, the rest politely); new and
//   urgent cases also ring (a beep made here with WebAudio) and show a browser
//   notification, each when the los switched it on (remembered in localStorage).
// - While the los types a reply, the citizen's chat is told she is writing (no text).
// - Submitting a form disables its buttons, so a double click sends once (a download form,
//   data-download, which leaves the page where it is, gets them back after a few seconds).
(function () {
  "use strict";
  var body = document.body;
  var feed = body.getAttribute("data-live");
  var poll = parseInt(body.getAttribute("data-poll") || "0", 10);
  var SOUND = "inngang.console.sound";
  var NOTIFY = "inngang.console.notify";

  function stored(key) {
    try { return window.localStorage.getItem(key) === "on"; } catch (e) { return false; }
  }
  function store(key, on) {
    try { window.localStorage.setItem(key, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
      }
      if (form.hasAttribute("data-download")) {
        window.setTimeout(function () {
          for (var j = 0; j < buttons.length; j++) { buttons[j].disabled = false; }
        }, 4000);
      }
    }, 0);
  });

  // A saved answer's "insert" link puts its text into the reply box at the cursor, where
  // the los edits it before sending (without the script, the link reloads the page with the
  // answer in the box).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.insert[data-text]") : null;
    var box = document.getElementById("text");
    if (!link || !box || box.readOnly) { return; }
    event.preventDefault();
    var text = link.getAttribute("data-text");
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var gap = before && !/\s$/.test(before) ? "\n\n" : "";
    box.value = before + gap + text + after;
    var caret = (before + gap + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    var details = link.closest("details");
    if (details) { details.open = false; }
  });

  // While the los types a reply to a case she holds, the citizen's web chat shows "the
  // familielos is writing": said at most every 3 s, and only while she is typing (each one
  // shows for 6 s). Only the fact is sent, never the text.
  var replyBox = document.querySelector("textarea[data-typing]");
  if (replyBox && window.fetch) {
    var saidAt = 0;
    replyBox.addEventListener("input", function () {
      var now = Date.now();
      if (now - saidAt < 3000 || !replyBox.value.trim()) { return; }
      saidAt = now;
      var csrf = replyBox.form.querySelector("input[name=csrf]");
      var data = new window.URLSearchParams();
      data.append("csrf", csrf ? csrf.value : "");
      window.fetch(replyBox.getAttribute("data-typing"), {
        method: "POST", body: data, credentials: "same-origin", cache: "no-store"
      }).catch(function () { /* a moment's signal: nothing to keep */ });
    });
  }

  // On a case page: when the citizen writes while the los has the case open, the new message
  // is put into the conversation (the reply she is typing stays as it is) and announced.
  var caseFeed = body.getAttribute("data-case-live");
  if (caseFeed && poll && window.fetch && window.DOMParser) {
    var reference = body.getAttribute("data-case");
    var seen = parseInt(body.getAttribute("data-unread") || "0", 10);
    var news = document.getElementById("case-news");
    var caseTag = null;
    var refreshTalk = function () {
      return window.fetch(window.location.pathname, { cache: "no-store", credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new window.DOMParser().parseFromString(html, "text/html");
          var now = document.querySelector(".talk ol.messages");
          var then = fresh.querySelector(".talk ol.messages");
          if (now && then) {
            now.innerHTML = then.innerHTML;
            news.textContent = news.getAttribute("data-text");
            news.hidden = false;
          }
        });
    };
    var watch = function () {
      var headers = { "Accept": "application/json" };
      if (caseTag) { headers["If-None-Match"] = caseTag; }
      window.fetch(caseFeed, { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 304) { window.setTimeout(watch, poll * 1000); return null; }
          if (!response.ok) { return null; }  // signed out or not allowed: stop quietly
          caseTag = response.headers.get("ETag");
          return response.json().then(function (data) {
            var more = false;
            for (var i = 0; i < data.cases.length; i++) {
              if (data.cases[i].reference === reference && data.cases[i].unread > seen) {
                seen = data.cases[i].unread;
                more = true;
              }
            }
            return (more ? refreshTalk() : Promise.resolve()).then(function () {
              window.setTimeout(watch, poll * 1000);
            });
          });
        })
        .catch(function () { window.setTimeout(watch, poll * 4000); });
    };
    window.setTimeout(watch, poll * 1000);
  }

  if (!feed || !poll || !window.fetch) {
    return;
  }
  var live = document.getElementById("live");
  var list = document.getElementById("live-list");
  var empty = document.getElementById("live-empty");
  var state = document.getElementById("live-state");
  var polite = document.getElementById("live-polite");
  var assertive = document.getElementById("live-assertive");
  var soundButton = document.getElementById("live-sound");
  var notifyButton = document.getElementById("live-notify");
  live.hidden = false;

  // --- what the page showed: reference -> {urgent, unread} --------------------------------
  var known = {};
  function remember(cases) {
    known = {};
    for (var i = 0; i < cases.length; i++) {
      known[cases[i].reference] = cases[i];
    }
  }
  (function fromPage() {
    var rows = document.querySelectorAll("#live-cases tr[data-reference]");
    var cases = [];
    for (var i = 0; i < rows.length; i++) {
      cases.push({
        reference: rows[i].getAttribute("data-reference"),
        urgent: rows[i].getAttribute("data-urgent") === "1",
        unread: parseInt(rows[i].getAttribute("data-unread") || "0", 10)
      });
    }
    remember(cases);
  })();

  var noticed = {};
  (function noticesFromPage() {
    var rows = document.querySelectorAll("#live-notices tr[data-notice]");
    for (var i = 0; i < rows.length; i++) {
      noticed[rows[i].getAttribute("data-notice")] = true;
    }
  })();

  // --- sound: a short two-tone beep, made here (no file, no third party) ------------------
  var audio = null;
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (!audio) { audio = new Context(); }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }
  function beep(urgent) {
    var ctx = audioContext();
    if (!ctx) { return; }
    var tones = urgent ? [880, 660, 880, 660] : [660, 880];
    var start = ctx.currentTime + 0.02;
    for (var i = 0; i < tones.length; i++) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = tones[i];
      var at = start + i * 0.18;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.17);
    }
  }
  // A browser plays sound only after the person used the page: wake it up on the first use.
  function wake() {
    if (stored(SOUND)) { audioContext(); }
  }
  document.addEventListener("pointerdown", wake, { once: true });
  document.addEventListener("keydown", wake, { once: true });

  // --- the switches ------------------------------------------------------------------------
  function notificationsAllowed() {
    return "Notification" in window && window.Notification.permission === "granted";
  }
  function show() {
    soundButton.setAttribute("aria-pressed", stored(SOUND) ? "true" : "false");
    var notify = stored(NOTIFY) && notificationsAllowed();
    notifyButton.setAttribute("aria-pressed", notify ? "true" : "false");
    if (!("Notification" in window)) { notifyButton.hidden = true; }
  }
  soundButton.addEventListener("click", function () {
    var on = !stored(SOUND);
    store(SOUND, on);
    if (on) { beep(false); }
    show();
  });
  notifyButton.addEventListener("click", function () {
    if (stored(NOTIFY) && notificationsAllowed()) {
      store(NOTIFY, false);
      show();
      return;
    }
    var asked = window.Notification.requestPermission();
    var then = function (answer) {
      store(NOTIFY, answer === "granted");
      state.textContent = answer === "denied" ? live.getAttribute("data-denied") : "";
      polite.textContent = state.textContent;
      show();
    };
    if (asked && asked.then) { asked.then(then); } else { then(window.Notification.permission); }
  });
  show();

  // --- telling the los ---------------------------------------------------------------------
  function tell(text, urgent, reference, at) {
    var item = document.createElement("li");
    if (urgent) { item.className = "urgent"; }
    var time = document.createElement("span");
    time.className = "small";
    time.textContent = at + " ";
    item.appendChild(time);
    var link = document.createElement("a");
    link.href = "/staff/case/" + encodeURIComponent(reference);
    link.textContent = text;
    item.appendChild(link);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 20) { list.removeChild(list.lastChild); }
    empty.hidden = true;
    var region = urgent ? assertive : polite;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }
  function notify(title, text, reference) {
    if (!stored(NOTIFY) || !notificationsAllowed()) { return; }
    try {
      var note = new window.Notification(title, { body: text, tag: reference });
      note.onclick = function () {
        window.focus();
        window.location.href = "/staff/case/" + encodeURIComponent(reference);
      };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }

  function compare(cases, at) {
    var ring = false;
    var ringUrgent = false;
    for (var i = 0; i < cases.length; i++) {
      var c = cases[i];
      var before = known[c.reference];
      if (!before) {
        tell(c.new_text, c.urgent, c.reference, at);
        notify(live.getAttribute(c.urgent ? "data-notify-title-urgent" : "data-notify-title"),
          c.new_text, c.reference);
        ring = true;
        ringUrgent = ringUrgent || c.urgent;
      } else if (c.urgent && !before.urgent) {
        tell(c.urgent_text, true, c.reference, at);
        notify(live.getAttribute("data-notify-title-urgent"), c.urgent_text, c.reference);
        ring = true;
        ringUrgent = true;
      } else if (c.unread > before.unread) {
        tell(c.unread_text, false, c.reference, at);
      }
    }
    if (ring && stored(SOUND)) { beep(ringUrgent); }
    remember(cases);
  }

  // Escalations and cases handed to this los: announced once each.
  function compareNotices(notices, at) {
    var urgent = false;
    for (var i = 0; i < notices.length; i++) {
      var n = notices[i];
      if (noticed[n.id]) { continue; }
      noticed[n.id] = true;
      tell(n.text, n.urgent, n.reference, at);
      if (n.urgent) {
        notify(live.getAttribute("data-notify-title-urgent"), n.text, n.reference);
        urgent = true;
      }
    }
    if (urgent && stored(SOUND)) { beep(true); }
  }

  // --- putting the new state in place, the focus kept -------------------------------------
  function replace(id, html) {
    var box = document.getElementById(id);
    if (!box || box.innerHTML === html) { return; }
    var active = document.activeElement;
    var inside = active && box.contains(active);
    var href = inside && active.getAttribute ? active.getAttribute("href") : null;
    var name = inside && active.getAttribute ? active.getAttribute("name") : null;
    box.innerHTML = html;
    if (inside) {
      var again = href ? box.querySelector('a[href="' + href + '"]')
        : name ? box.querySelector('[name="' + name + '"]') : null;
      if (again) { again.focus(); }
    }
  }

  var etag = null;
  var delay = poll * 1000;
  var failures = 0;
  function next(ms) { window.setTimeout(check, ms); }
  function check() {
    var headers = { "Accept": "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }
    window.fetch(feed, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) {
          state.textContent = live.getAttribute("data-signed-out");
          polite.textContent = state.textContent;
          return null;  // stop: a new sign-in is a page load
        }
        if (response.status === 304) {
          failures = 0;
          state.textContent = "";
          next(delay);
          return null;
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        etag = response.headers.get("ETag");
        return response.json().then(function (data) {
          failures = 0;
          state.textContent = "";
          var heading = document.getElementById("cases-heading");
          if (heading) { heading.textContent = data.heading; }
          replace("live-cases", data.html.cases);
          replace("live-notices", data.html.notices);
          replace("live-duty", data.html.duty);
          compare(data.cases, data.at);
          compareNotices(data.notices, data.at);
          next(delay);
        });
      })
      .catch(function () {
        failures += 1;
        state.textContent = live.getAttribute("data-offline");
        next(Math.min(60000, delay * Math.pow(2, failures)));
      });
  }
  next(delay);
})();
