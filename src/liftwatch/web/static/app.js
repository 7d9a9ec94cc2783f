// liftwatch's own script. Pages work without it; it keeps the language switch pointing at the current
// URL after htmx has refreshed the results and pushed a new URL into the history.
(function () {
  "use strict";
  function refreshLanguageLinks() {
    var here = window.location.pathname + window.location.search;
    document.querySelectorAll("#lang-switch a[data-lang]").forEach(function (a) {
      a.href = "/lang/" + a.dataset.lang + "?next=" + encodeURIComponent(here);
    });
  }
  document.addEventListener("htmx:pushedIntoHistory", refreshLanguageLinks);
  document.addEventListener("htmx:historyRestore", refreshLanguageLinks);
  window.addEventListener("popstate", refreshLanguageLinks);
  // A new API key is selected on focus, ready to copy (no inline handler: the CSP forbids them).
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el instanceof HTMLInputElement && el.classList.contains("key-value")) {
      el.select();
    }
  });
})();
