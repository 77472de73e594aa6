// API keys page: copy a newly created key to the clipboard (no inline scripts: CSP).
(function () {
  "use strict";

  function report(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = text; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var id = button.dataset.copy;
    var field = document.getElementById(id);
    if (!field) { return; }
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { report(id, "Copied."); },
        function () { report(id, "Press Ctrl+C (⌘C) to copy."); }
      );
    } else {
      // Plain-HTTP pages have no clipboard API: leave the key selected for the user.
      report(id, document.execCommand && document.execCommand("copy") ? "Copied." : "Press Ctrl+C (⌘C) to copy.");
    }
  });
})();
