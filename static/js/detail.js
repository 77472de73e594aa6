// The tool page: a dialog sent back open because its form had an error (a missing
// reason) is shown again as a modal, with its backdrop, where the user left it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-reopen][open]").forEach(function (dialog) {
      dialog.close();
      dialog.showModal();
      var field = dialog.querySelector("[aria-invalid='true']");
      if (field) { field.focus(); }
    });
  });
})();
