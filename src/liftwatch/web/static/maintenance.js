// liftwatch, the maintenance worker's phone: fill the check-in and check-out position from the browser's
// geolocation when it gives one; the worker can always type it (the manual fallback). The page works
// without this script; no inline handlers (the CSP forbids them).
(function () {
  "use strict";
  function locate(box) {
    var lat = box.querySelector("input[name=latitude]");
    var lon = box.querySelector("input[name=longitude]");
    var status = box.querySelector(".geo-status");
    if (!lat || !lon || lat.value || lon.value || !("geolocation" in navigator)) {
      return;
    }
    if (status) { status.textContent = status.dataset.locating; }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        if (!lat.value && !lon.value) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
        }
        if (status) { status.textContent = status.dataset.located; }
      },
      function () {
        if (status) { status.textContent = status.dataset.failed; }
      },
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }
    );
  }
  function init() {
    document.querySelectorAll("[data-geolocate='true']").forEach(locate);
    // A result ticked marks its item done at once (the server keeps it on "save").
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (input instanceof HTMLInputElement && input.classList.contains("mnt-radio")) {
        var item = input.closest(".mnt-item");
        if (item) { item.classList.add("mnt-item-done"); item.dataset.result = input.value; }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
