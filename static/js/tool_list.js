// The tool list: "select all on this page", the count of selected tools, and the bulk
// button that waits for a selection. Filtering itself is htmx (see tool_list.html).
(function () {
  "use strict";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#tool-rows input[name=name]"));
  }

  function refresh() {
    var all = boxes();
    var picked = all.filter(function (box) { return box.checked; }).length;
    all.forEach(function (box) { box.closest("tr").classList.toggle("is-selected", box.checked); });
    var master = document.querySelector("#tool-rows [data-select-all]");
    if (master) {
      master.checked = all.length > 0 && picked === all.length;
      master.indeterminate = picked > 0 && picked < all.length;
    }
    var count = document.getElementById("bulk-count");
    if (count) {
      count.textContent = picked
        ? picked + (picked === 1 ? " tool selected" : " tools selected")
        : "Tick tools to act on several at once.";
    }
    var go = document.getElementById("bulk-go");
    if (go) { go.disabled = picked === 0; }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("#tool-rows [data-select-all]")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("#tool-rows [data-select-all], #tool-rows input[name=name]")) {
      refresh();
    }
  });

  function start() {
    // With scripts on, filters apply as they change: the submit button is not needed.
    document.querySelectorAll("[data-js-hidden]").forEach(function (el) { el.hidden = true; });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", refresh);
  document.addEventListener("htmx:historyRestore", start);
})();
