// "Try it": lists are edited as rows (one control per item, typed by the item schema),
// with the JSON text optional behind "Type as JSON". The textarea the server reads stays
// the one source: the rows write their values into it as JSON on every change, and the
// server reads it (JSON, lines or commas) and names any item it cannot read.
(function () {
  "use strict";

  function itemsOf(text) {
    var trimmed = text.trim();
    if (!trimmed) { return []; }
    if (trimmed.charAt(0) === "[") {
      try {
        var parsed = JSON.parse(trimmed);
        if (Array.isArray(parsed)) {
          return parsed.map(function (v) {
            if (typeof v === "boolean") { return v ? "yes" : "no"; }
            return typeof v === "string" ? v : JSON.stringify(v);
          });
        }
      } catch (e) { /* not JSON: read it as lines or commas below */ }
    }
    var lines = trimmed.split(/\r?\n/);
    var pieces = lines.length > 1 ? lines : trimmed.split(",");
    return pieces.map(function (p) { return p.trim(); }).filter(function (p) { return p; });
  }

  function typed(value, kind) {
    if ((kind === "integer" || kind === "number") && value.trim() !== "" && isFinite(Number(value))) {
      return Number(value);
    }
    if (kind === "boolean" && (value === "yes" || value === "no")) { return value === "yes"; }
    return value;
  }

  function control(spec, value, label) {
    var input;
    if (spec.choices.length || spec.kind === "boolean") {
      input = document.createElement("select");
      var options = spec.choices.length ? spec.choices : ["yes", "no"];
      [""].concat(options).forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice;
        option.textContent = choice === "" ? "— pick one —" : choice;
        option.selected = choice === value;
        input.appendChild(option);
      });
    } else {
      input = document.createElement("input");
      input.type = "text";
      if (spec.kind === "integer") { input.inputMode = "numeric"; }
      if (spec.kind === "number") { input.inputMode = "decimal"; }
      input.value = value;
    }
    input.className = "list-item-value";
    input.setAttribute("aria-label", label);
    return input;
  }

  function build(textarea) {
    textarea.dataset.bound = "1";
    var spec = JSON.parse(textarea.dataset.listItem);
    var name = (document.querySelector("label[for='" + textarea.id + "']") || {}).firstChild;
    var fieldName = name ? name.textContent.trim() : "Item";

    var editor = document.createElement("div");
    editor.className = "list-editor";
    var rows = document.createElement("ol");
    rows.className = "list-rows";
    var add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-small list-add";
    add.textContent = "Add a row";
    var toggleLabel = document.createElement("label");
    toggleLabel.className = "checkbox-label list-as-json";
    var toggle = document.createElement("input");
    toggle.type = "checkbox";
    toggleLabel.appendChild(toggle);
    toggleLabel.appendChild(document.createTextNode(" Type as JSON"));
    var actions = document.createElement("div");
    actions.className = "list-actions";
    actions.appendChild(add);
    actions.appendChild(toggleLabel);
    editor.appendChild(rows);
    editor.appendChild(actions);
    textarea.parentNode.insertBefore(editor, textarea);
    editor.appendChild(textarea);

    function renumber() {
      Array.prototype.forEach.call(rows.children, function (row, index) {
        var n = index + 1;
        row.querySelector(".list-item-value").setAttribute("aria-label", fieldName + ", item " + n);
        row.querySelector(".list-remove").setAttribute("aria-label", "Remove " + fieldName + ", item " + n);
      });
    }

    function sync() {
      var values = Array.prototype.map.call(rows.querySelectorAll(".list-item-value"), function (input) {
        return input.value.trim();
      }).filter(function (v) { return v !== ""; });
      textarea.value = values.length ? JSON.stringify(values.map(function (v) { return typed(v, spec.kind); })) : "";
    }

    function addRow(value) {
      var row = document.createElement("li");
      row.className = "list-row";
      row.appendChild(control(spec, value, fieldName + ", item " + (rows.children.length + 1)));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-small list-remove";
      remove.textContent = "Remove";
      row.appendChild(remove);
      rows.appendChild(row);
      return row;
    }

    function showRows() {
      rows.innerHTML = "";
      var items = itemsOf(textarea.value);
      (items.length ? items : [""]).forEach(addRow);
      renumber();
      rows.hidden = false;
      add.hidden = false;
      textarea.hidden = true;
    }

    rows.addEventListener("input", sync);
    rows.addEventListener("change", sync);
    rows.addEventListener("click", function (event) {
      var remove = event.target.closest(".list-remove");
      if (!remove) { return; }
      remove.closest(".list-row").remove();
      if (!rows.children.length) { addRow(""); }
      renumber();
      sync();
    });
    add.addEventListener("click", function () {
      addRow("").querySelector(".list-item-value").focus();
      renumber();
    });
    toggle.addEventListener("change", function () {
      if (toggle.checked) {
        sync();
        rows.hidden = true;
        add.hidden = true;
        textarea.hidden = false;
        textarea.focus();
      } else {
        showRows();
        sync();
      }
    });
    // What the server sent back (the text as typed, next to its errors) stays as it
    // was until a row changes; JSON that does not read stays in the JSON box.
    var text = textarea.value.trim();
    var brokenJson = false;
    if (text.charAt(0) === "[") {
      try { JSON.parse(text); } catch (e) { brokenJson = true; }
    }
    if (brokenJson) {
      toggle.checked = true;
      rows.hidden = true;
      add.hidden = true;
    } else {
      showRows();
    }
    if (textarea.disabled) {
      // People who may not run the tool see what it asks for, but change nothing.
      editor.querySelectorAll("input, select, button").forEach(function (control) {
        control.disabled = true;
      });
    }
  }

  function init(root) {
    root.querySelectorAll("textarea.list-input:not([data-bound])").forEach(build);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
