// liftwatch, the crew's phone: the arrival carries the phone's position when the browser gives one within
// a few seconds (the crew may refuse, or have no fix: then the arrival goes without it). The page works
// without this script; no inline handlers (the CSP forbids them).
(function () {
  "use strict";
  var WAIT_MS = 8000;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.geolocate !== "true") {
      return;
    }
    if (!("geolocation" in navigator) || form.dataset.sending === "true") {
      return;
    }
    event.preventDefault();
    form.dataset.sending = "true";
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    var status = form.querySelector("[data-locating]");
    if (status) {
      status.textContent = status.dataset.locating;
    }
    var sent = false;
    function send(position) {
      if (sent) {
        return;
      }
      sent = true;
      if (position) {
        form.elements.namedItem("latitude").value = String(position.coords.latitude);
        form.elements.namedItem("longitude").value = String(position.coords.longitude);
      }
      form.submit(); // no submit event: this handler does not run again
    }
    var timer = window.setTimeout(function () { send(null); }, WAIT_MS);
    navigator.geolocation.getCurrentPosition(
      function (position) { window.clearTimeout(timer); send(position); },
      function () { window.clearTimeout(timer); send(null); },
      { enableHighAccuracy: true, timeout: WAIT_MS - 1000, maximumAge: 60000 }
    );
  });
  // Back to a page kept by the browser's cache: the step's button works again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-geolocate='true']").forEach(function (form) {
      delete form.dataset.sending;
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = false;
      }
    });
  });
})();
