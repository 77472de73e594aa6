// Small behaviours every page shares. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";

  function init(root) {
    // Forms marked data-autosubmit submit when a select changes (the tenant switcher).
    root.querySelectorAll("form[data-autosubmit] select:not([data-bound])").forEach(function (select) {
      select.dataset.bound = "1";
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  document.addEventListener("click", function (event) {
    // Dismiss buttons on messages.
    var close = event.target.closest("[data-dismiss]");
    if (close) { close.closest(".alert").remove(); return; }
    // Buttons with data-dialog="id" open that <dialog>; data-close closes the enclosing one.
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.dialog);
      if (dialog) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    var closer = event.target.closest("[data-close]");
    if (closer) { event.preventDefault(); closer.closest("dialog").close(); }
  });

  // Forms with data-confirm="message" ask before submitting (plain, non-htmx forms).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
