// The staff console's one small script. The pages work without it; it only adds comfort.
// - The queue reloads itself every data-refresh seconds, unless the los is using a control
//   (a field, a button or a link in focus) or has typed something.
// - Submitting a form disables its buttons, so a double click sends once.
(function () {
  "use strict";
  var refresh = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (refresh > 0) {
    window.setInterval(function () {
      var active = document.activeElement;
      var busy = active && active !== document.body && active.id !== "main";
      if (!busy && !document.hidden) {
        window.location.reload();
      }
    }, refresh * 1000);
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
      }
    }, 0);
  });
})();
