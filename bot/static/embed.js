// One script tag on the municipality's page: <script src="https://inngang.example/embed.js" defer></script>
// Adds a button that opens the anonymous Inngang chat in a panel. No third-party code.
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  var label = document.currentScript.getAttribute("data-label") || "Chat";
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;bottom:1rem;right:1rem;z-index:2147483000;padding:.75rem 1.1rem;" +
    "border-radius:2rem;border:0;background:#0b4fb3;color:#fff;font:600 1rem system-ui,sans-serif;min-height:44px";
  var frame = document.createElement("iframe");
  frame.title = label;
  frame.src = origin + "/";
  frame.hidden = true;
  frame.style.cssText = "position:fixed;bottom:4.5rem;right:1rem;width:min(26rem,calc(100vw - 2rem));" +
    "height:min(40rem,calc(100vh - 6rem));border:1px solid #888;border-radius:.75rem;background:#fff;z-index:2147483000";
  button.addEventListener("click", function () {
    frame.hidden = !frame.hidden;
    button.setAttribute("aria-expanded", String(!frame.hidden));
    if (!frame.hidden) frame.focus();
  });
  document.body.appendChild(frame);
  document.body.appendChild(button);
})();
