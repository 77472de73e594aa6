// A run's page: once its live panel reports the run finished, reload the page so that the
// times, the decision and the actions (no more "Cancel") match the final state too.
(function () {
  "use strict";
  document.addEventListener("htmx:load", function (event) {
    var panel = event.target;
    if (panel.matches && panel.matches(".run-live[data-final]") &&
        document.querySelector("[data-reload-when-final]")) {
      window.location.reload();
    }
  });
})();
