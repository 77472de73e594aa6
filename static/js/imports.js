// The import wizard: show chosen files and a busy note on upload; start the progress
// bar when an import is applied. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function size(bytes) {
    if (bytes >= 1024 * 1024) { return (bytes / 1024 / 1024).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function listChosenFiles(input) {
    var list = input.closest(".dropzone").querySelector("[data-chosen-files]");
    if (!list) { return; }
    list.replaceChildren();
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + size(file.size) + ")";
      list.appendChild(item);
    });
    list.hidden = input.files.length === 0;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-import-upload] input[type=file]")) {
      listChosenFiles(input);
    }
  });

  // A plain (non-htmx) upload: say that it is working and refuse a second click.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-import-upload]")) { return; }
    if (form.classList.contains("is-busy")) { event.preventDefault(); return; }
    form.classList.add("is-busy");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
  });

  // Applying: while the request runs, a copy of the progress template polls the server.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-import-apply]")) { return; }
    var slot = document.getElementById("import-progress-slot");
    var template = document.getElementById("import-progress-template");
    if (!slot || !template) { return; }
    slot.replaceChildren(template.content.cloneNode(true));
    window.htmx.process(slot);
  });

  function applyFailed(event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-import-apply]")) { return; }
    var slot = document.getElementById("import-progress-slot");
    if (!slot) { return; }
    var note = document.createElement("div");
    note.className = "alert alert-error";
    note.setAttribute("role", "alert");
    note.textContent = "The import could not finish (the server did not answer properly). " +
      "Nothing has been changed. Reload this page to see where it stands.";
    slot.replaceChildren(note);
  }
  document.addEventListener("htmx:responseError", applyFailed);
  document.addEventListener("htmx:sendError", applyFailed);
})();
