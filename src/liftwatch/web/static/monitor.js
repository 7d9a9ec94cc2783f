// liftwatch remote monitoring map. Leaflet with our own base layer (no tiles offline): a light grid and
// the district boundaries, or a tile layer when LIFTWATCH_MAP_TILE_URL is set. Markers come from
// /monitor/markers.json with the list's filters and refresh whenever htmx has refreshed the list.
(function () {
  "use strict";
  var COLORS = {
    critical: "#c0261b",
    major: "#d9570f",
    minor: "#e0b000",
    info: "#2f6fd6",
    offline: "#6b7785",
  };
  var STEPS = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005];

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }

  function popup(m, labels) {
    var box = document.createElement("div");
    box.className = "lw-popup";
    var head = document.createElement("p");
    var link = text("a", m.code, "code");
    link.href = m.url;
    head.appendChild(link);
    head.appendChild(document.createTextNode(" "));
    head.appendChild(text("span", m.level_label, "sev sev-" + m.level));
    box.appendChild(head);
    if (m.place) box.appendChild(text("p", m.place, "muted"));
    if (m.faults.length) box.appendChild(text("p", m.faults.join("、")));
    box.appendChild(text("p", labels.since + ": " + m.since, "muted small"));
    if (m.unit) box.appendChild(text("p", labels.maintenance_unit + ": " + m.unit, "muted small"));
    var open = text("a", labels.open_file + " →");
    open.href = m.url;
    box.appendChild(open);
    return box;
  }

  function init() {
    var el = document.getElementById("monitor-map");
    var cfgEl = document.getElementById("monitor-map-config");
    if (!el || !cfgEl || !window.L) return;
    var cfg = JSON.parse(cfgEl.textContent);
    var L = window.L;
    var map = L.map(el, { zoomControl: true, attributionControl: !!cfg.tile_url, minZoom: 3, maxZoom: 18 });
    map.createPane("districts").style.zIndex = 350;

    if (cfg.tile_url) {
      L.tileLayer(cfg.tile_url, { maxZoom: 18 }).addTo(map);
    } else {
      var grid = L.layerGroup().addTo(map);
      var drawGrid = function () {
        grid.clearLayers();
        var b = map.getBounds();
        var span = Math.max(b.getNorth() - b.getSouth(), b.getEast() - b.getWest());
        var step = STEPS[STEPS.length - 1];
        for (var i = 0; i < STEPS.length; i++) {
          if (span / STEPS[i] >= 6) { step = STEPS[i]; break; }
        }
        var style = { color: "#d9e1ea", weight: 1, interactive: false };
        var major = { color: "#c5d0dc", weight: 1.2, interactive: false };
        var s = Math.floor(b.getSouth() / step) * step, n = b.getNorth() + step;
        var w = Math.floor(b.getWest() / step) * step, e = b.getEast() + step;
        for (var lat = s; lat <= n; lat += step) {
          var onMajor = Math.abs(lat / (step * 5) - Math.round(lat / (step * 5))) < 1e-6;
          grid.addLayer(L.polyline([[lat, w], [lat, e]], onMajor ? major : style));
        }
        for (var lon = w; lon <= e; lon += step) {
          var onMajorLon = Math.abs(lon / (step * 5) - Math.round(lon / (step * 5))) < 1e-6;
          grid.addLayer(L.polyline([[s, lon], [n, lon]], onMajorLon ? major : style));
        }
      };
      map.on("moveend zoomend resize", drawGrid);
      map.whenReady(drawGrid);
    }
    // District boundaries (the city's file or the registry's derived cells) with one label each; a
    // label that would cover another is hidden until zooming in makes room.
    var labels = [];
    function declutter() {
      var shown = [];
      labels.forEach(function (t) {
        var el = t.getElement();
        if (!el) return;
        el.classList.remove("district-label-hidden");
        var r = el.getBoundingClientRect();
        var clash = shown.some(function (s) {
          return r.left < s.right && r.right > s.left && r.top < s.bottom && r.bottom > s.top;
        });
        if (clash) el.classList.add("district-label-hidden");
        else shown.push(r);
      });
    }
    if (cfg.districts_url) {
      fetch(cfg.districts_url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (gj) {
          if (!gj) return;
          L.geoJSON(gj, {
            pane: "districts",
            interactive: false,
            style: { color: "#8a9bb0", weight: 1.2, fillColor: "#e8eef5", fillOpacity: 0.25, className: "lw-district" },
            onEachFeature: function (f, layer) {
              var name = f.properties && f.properties.name;
              if (!name) return;
              var c = f.properties.centre;
              var at = c ? L.latLng(c[1], c[0]) : layer.getBounds().getCenter();
              var tip = L.tooltip({ permanent: true, direction: "center", className: "district-label" })
                .setLatLng(at).setContent(name);
              tip.addTo(map);
              labels.push(tip);
            },
          }).addTo(map);
          el.dataset.districts = String(labels.length);
          declutter();
        })
        .catch(function () { /* the map works without boundaries */ });
      map.on("zoomend", declutter);
    }

    var markers = L.layerGroup().addTo(map);
    var fitted = false;
    var userMoved = false;
    ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (name) {
      el.addEventListener(name, function () { userMoved = true; }, { passive: true });
    });
    var loading = false;
    var noCoords = document.getElementById("map-no-coords");

    function draw(data) {
      markers.clearLayers();
      var pts = [];
      // Worst last, so critical markers sit on top.
      var order = { offline: 0, info: 1, minor: 2, major: 3, critical: 4 };
      data.markers.sort(function (a, b) { return (order[a.level] || 0) - (order[b.level] || 0); });
      data.markers.forEach(function (m) {
        var marker = L.circleMarker([m.lat, m.lon], {
          radius: m.level === "critical" ? 9 : 7,
          color: "#ffffff",
          weight: 2,
          fillColor: COLORS[m.level] || COLORS.info,
          fillOpacity: 0.95,
          className: "lw-marker lw-marker-" + m.level,
        });
        marker.bindPopup(popup(m, cfg.labels), { autoPanPadding: [24, 24] });
        marker.bindTooltip(m.code + " · " + m.level_label);
        marker.on("popupopen", function () { marker.closeTooltip(); });
        marker.addTo(markers);
        pts.push([m.lat, m.lon]);
      });
      el.dataset.markers = String(data.markers.length);
      el.dataset.updated = data.updated;
      if (noCoords) {
        noCoords.textContent = data.without_coordinates
          ? noCoords.dataset.template.replace("{n}", String(data.without_coordinates))
          : "";
      }
      // Follow the markers until the user moves the map: fit on the first load, and again when a new
      // marker falls outside the view.
      if (pts.length && (!fitted || !userMoved)) {
        var view = map.getBounds();
        var outside = pts.some(function (p) { return !view.contains(p); });
        if (!fitted || outside) map.fitBounds(pts, { padding: [40, 40], maxZoom: 14, animate: false });
      }
      fitted = true;
    }

    function load() {
      if (loading) return;
      loading = true;
      var live = document.getElementById("live");
      var query = live ? live.dataset.query : "";
      fetch(cfg.markers_url + (query ? "?" + query : ""), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.markers) draw(data); })
        .catch(function () { /* the next refresh tries again */ })
        .then(function () { loading = false; });
    }

    map.fitBounds(cfg.bounds, { animate: false });
    load();
    // The list and the counts settle together (one response, an out-of-band swap): reload once after.
    var pending = null;
    document.body.addEventListener("htmx:afterSettle", function () {
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () { pending = null; load(); }, 100);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
