// One script tag on the municipality's page: <script src="https://inngang.example/embed.js" defer></script>
// Adds a button that opens the anonymous Inngang chat in a panel with a header and a close
// button; Escape closes it and gives the focus back to the button. It speaks the host
// page's language (<html lang>), and opens the chat in it. No third-party code.
(function () {
  "use strict";
  var texts = {/*texts*/};
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var lang = (document.documentElement.lang || "").toLowerCase().split("-")[0];
  if (lang === "no") lang = "nb";
  if (!texts[lang] || lang.charAt(0) === "_") lang = texts._default;
  var words = texts[lang];
  var dir = texts._rtl.indexOf(lang) >= 0 ? "rtl" : "ltr";
  var side = dir === "rtl" ? "left" : "right";
  var font = "system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans Arabic',sans-serif";

  function make(tag, css, attributes) {
    var el = document.createElement(tag);
    el.style.cssText = css;
    Object.keys(attributes || {}).forEach(function (name) { el.setAttribute(name, attributes[name]); });
    return el;
  }

  var launcher = make("button", "position:fixed;bottom:1rem;" + side + ":1rem;z-index:2147483000;" +
    "padding:.75rem 1.1rem;border-radius:2rem;border:0;background:#0b4fb3;color:#fff;" +
    "font:600 1rem " + font + ";min-height:44px;cursor:pointer",
    { type: "button", "aria-expanded": "false", "aria-controls": "inngang-panel", lang: lang, dir: dir });
  launcher.textContent = script.getAttribute("data-label") || words.open;

  var panel = make("section", "position:fixed;bottom:1rem;" + side + ":1rem;z-index:2147483001;" +
    "width:min(26rem,calc(100vw - 2rem));height:min(42rem,calc(100dvh - 2rem));display:none;" +
    "flex-direction:column;border:1px solid #767676;border-radius:.75rem;background:#fff;color:#1b1b1b;" +
    "box-shadow:0 .5rem 2rem rgba(0,0,0,.25);overflow:hidden;font:1rem/1.4 " + font,
    { id: "inngang-panel", role: "dialog", "aria-labelledby": "inngang-panel-title", lang: lang, dir: dir });
  var header = make("div", "display:flex;align-items:center;justify-content:space-between;gap:.5rem;" +
    "padding:.35rem .35rem .35rem .9rem;background:#0b4fb3;color:#fff");
  var title = make("h2", "margin:0;font:600 1rem " + font, { id: "inngang-panel-title" });
  title.textContent = words.title;
  var close = make("button", "min-width:44px;min-height:44px;border:2px solid #fff;border-radius:.5rem;" +
    "background:transparent;color:#fff;font:600 1.4rem/1 " + font + ";cursor:pointer",
    { type: "button", "aria-label": words.close, title: words.close });
  close.textContent = "×";
  var frame = make("iframe", "flex:1;width:100%;border:0", { title: words.title });
  // data-area="<id>" on the script tag opens the chat of that area (several municipalities
  // on one installation); without it, the installation's default chat.
  var area = (script.getAttribute("data-area") || "").replace(/[^a-z0-9-]/g, "");
  frame.src = origin + (area ? "/a/" + area + "/" : "/") + "?lang=" + encodeURIComponent(lang);
  header.appendChild(title);
  header.appendChild(close);
  panel.appendChild(header);
  panel.appendChild(frame);

  function isOpen() { return panel.style.display !== "none"; }
  function open() {
    panel.style.display = "flex";
    launcher.style.display = "none";
    launcher.setAttribute("aria-expanded", "true");
    close.focus();
  }
  function shut() {
    panel.style.display = "none";
    launcher.style.display = "";
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", open);
  close.addEventListener("click", shut);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) shut();
  });
  // Escape inside the chat (the frame is another document): it says so with a message.
  window.addEventListener("message", function (event) {
    if (event.origin === origin && event.data === "inngang:escape" && isOpen()) shut();
  });
  var style = make("style", "");
  style.textContent = "#inngang-panel button:focus-visible{outline:3px solid #ff9e00;outline-offset:2px}";
  document.head.appendChild(style);
  document.body.appendChild(panel);
  document.body.appendChild(launcher);
})();
