// liftwatch city dashboard: ECharts trend and ranking charts from the page's data, and a Leaflet map
// without a tile server (a tile layer only when LIFTWATCH_MAP_TILE_URL is set): the district boundaries
// (/dashboard/districts.geojson), the elevators and the open incidents as clustered points
// (Leaflet.markercluster) coloured by state or by risk grade, or, where the view holds too many to draw,
// squares with their elevators counted by the server (refreshed as the map moves). Drill-down is in the page's query string.
(function () {
  "use strict";

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  // ---------------------------------------------------------------- charts

  function drawCharts(cfg, data) {
    if (!window.echarts || !data) return;
    var L = cfg.labels;
    var charts = [];
    var trendEl = document.getElementById("chart-trend");
    if (trendEl) {
      var trend = window.echarts.init(trendEl, null, { renderer: "svg" });
      var months = data.trend.map(function (m) { return m.month; });
      var target = data.on_time_target == null ? null : data.on_time_target * 100;
      trend.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: [L.entrapments, L.on_time], top: 0 },
        grid: { left: 8, right: 8, top: 44, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: months, axisLabel: { hideOverlap: true } },
        yAxis: [
          { type: "value", minInterval: 1 },
          { type: "value", name: "%", min: 0, max: 100, splitLine: { show: false } },
        ],
        series: [
          { name: L.entrapments, type: "bar", data: data.trend.map(function (m) { return m.entrapments; }),
            itemStyle: { color: "#2f6fd6" } },
          { name: L.on_time, type: "line", yAxisIndex: 1, connectNulls: false, itemStyle: { color: "#1a7f4b" },
            data: data.trend.map(function (m) { return m.on_time == null ? null : +(m.on_time * 100).toFixed(1); }),
            markLine: target == null ? undefined : {
              symbol: "none", silent: true, lineStyle: { type: "dashed", color: "#b42318" },
              label: { formatter: L.on_time_target, position: "insideStartTop" }, data: [{ yAxis: target }],
            } },
        ],
      });
      charts.push(trend);
    }
    var rankEl = document.getElementById("chart-ranking");
    if (rankEl) {
      var rank = window.echarts.init(rankEl, null, { renderer: "svg" });
      var rows = data.ranking.slice().reverse(); // highest on top
      var byCount = data.ranking_by === "entrapments";
      rank.setOption({
        animation: false,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 24, top: 8, bottom: 30, containLabel: true },
        xAxis: { type: "value", name: byCount ? L.entrapments : L.per_10k, nameLocation: "middle", nameGap: 24 },
        yAxis: { type: "category", data: rows.map(function (r) { return r.name; }),
                 axisLabel: { width: 96, overflow: "truncate" } },
        series: [{ type: "bar", itemStyle: { color: "#d9570f" },
                   data: rows.map(function (r) { return byCount ? r.entrapments : (r.per_10k || 0); }) }],
      });
      rank.on("click", function (p) { var r = rows[p.dataIndex]; if (r && r.href) window.location.href = r.href; });
      rankEl.dataset.bars = String(rows.length);
      charts.push(rank);
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  // ---------------------------------------------------------------- map

  function popup(p, cfg) {
    var box = document.createElement("div");
    box.className = "lw-popup";
    var head = document.createElement("p");
    var link = text("a", p.code, "code");
    link.href = "/elevators/" + encodeURIComponent(p.code);
    head.appendChild(link);
    box.appendChild(head);
    box.appendChild(text("p", cfg.labels.states[p.state] + " · " + cfg.labels.grades[p.grade || ""]));
    var open = text("a", cfg.labels.open_file + " →");
    open.href = link.href;
    box.appendChild(open);
    return box;
  }

  function initMap(cfg) {
    var el = document.getElementById("dashboard-map");
    if (!el || !window.L) return;
    var L = window.L;
    var map = L.map(el, { zoomControl: true, attributionControl: !!cfg.tile_url, minZoom: 3, maxZoom: 18,
                           zoomSnap: 0.25 });
    if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 18 }).addTo(map);
    map.fitBounds(cfg.bounds, { animate: false, padding: [12, 12], maxZoom: 16 });

    // District boundaries with one label each; a label that would cover another is hidden until zooming
    // in makes room (the first, largest-first order keeps the big districts' names).
    var labels = [];
    function declutter() {
      var shown = [];
      labels.forEach(function (t) {
        var le = t.getElement();
        if (!le) return;
        le.classList.remove("district-label-hidden");
        var r = le.getBoundingClientRect();
        var clash = shown.some(function (o) {
          return r.left < o.right && r.right > o.left && r.top < o.bottom && r.bottom > o.top;
        });
        if (clash) le.classList.add("district-label-hidden");
        else shown.push(r);
      });
    }
    map.createPane("districts").style.zIndex = 350;
    getJSON(cfg.districts_url).then(function (gj) {
      if (!gj) return;
      L.geoJSON(gj, {
        pane: "districts",
        style: function (f) {
          var mine = f.properties && f.properties.name === cfg.district;
          return { color: "#4a6a8f", weight: mine ? 2.5 : 1.2, fillColor: mine ? "#bcd3ef" : "#e8eef5",
                   fillOpacity: mine ? 0.55 : 0.35, className: "lw-district" };
        },
        onEachFeature: function (f, lyr) {
          var name = f.properties && f.properties.name;
          if (!name) return;
          var c = f.properties.centre;
          var at = c ? L.latLng(c[1], c[0]) : lyr.getBounds().getCenter();
          var tip = L.tooltip({ permanent: true, direction: "top", offset: [0, -18], className: "district-label" })
            .setLatLng(at).setContent(name);
          tip.addTo(map);
          labels.push(tip);
          if (cfg.level === "city") {
            lyr.on("click", function () { window.location.href = "/dashboard?district=" + encodeURIComponent(name); });
          }
        },
      }).addTo(map);
      el.dataset.districts = String(gj.features ? gj.features.length : 0);
      declutter();
    });
    map.on("zoomend", declutter);

    var mode = "state";
    var elevators = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 });
    var incidents = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 30,
      iconCreateFunction: function (c) {
        return L.divIcon({ html: "<div><span>" + c.getChildCount() + "</span></div>",
                           className: "marker-cluster marker-cluster-incident", iconSize: L.point(40, 40) });
      },
    });
    map.addLayer(elevators);
    map.addLayer(incidents);
    var markers = [];

    function colour(p) {
      return mode === "grade" ? cfg.grade_colours[p.grade || ""] : cfg.state_colours[p.state];
    }

    // The counted squares: when the view holds more elevators than the server draws one by one, it
    // counts them per square of a grid over the view (about 90 px a square); a click zooms into a square,
    // and every move of a big area asks again for what the new view holds.
    var squares = L.layerGroup().addTo(map);
    var note = document.getElementById("map-note");
    var hint = note ? note.textContent : "";
    var asked = 0;
    var big = false;
    var timer = null;

    function viewQuery() {
      var b = map.getBounds();
      var size = map.getSize();
      function clamp(v, lim) { return Math.max(-lim, Math.min(lim, v)).toFixed(6); }
      var rows = Math.max(1, Math.min(64, Math.round(size.y / 90)));
      var cols = Math.max(1, Math.min(64, Math.round(size.x / 90)));
      return "view=" + [clamp(b.getSouth(), 90), clamp(b.getWest(), 180), clamp(b.getNorth(), 90),
                        clamp(b.getEast(), 180)].join(",") + "&grid=" + rows + "," + cols;
    }

    function squareIcon(c) {
      var size = c.count < 100 ? "small" : (c.count < 1000 ? "medium" : "large");
      return L.divIcon({ html: "<div><span>" + c.count + "</span></div>", iconSize: L.point(44, 44),
                         className: "marker-cluster marker-cluster-" + size + " lw-square" });
    }

    function show(data) {
      big = data.total > data.max;
      elevators.clearLayers();
      incidents.clearLayers();
      squares.clearLayers();
      var list = [];
      data.elevators.forEach(function (p) {
        var m = L.circleMarker([p.lat, p.lon], { radius: 7, color: "#ffffff", weight: 1.5, fillColor: colour(p),
                                                 fillOpacity: 0.95, className: "lw-point" });
        m.bindPopup(function () { return popup(p, cfg); });
        m.bindTooltip(p.code);
        m.point = p;
        list.push(m);
      });
      markers = list;
      elevators.addLayers(list);
      data.cells.forEach(function (c) {
        var m = L.marker([c.lat, c.lon], { icon: squareIcon(c), title: String(c.count) });
        m.on("click", function () { map.fitBounds(c.bounds, { padding: [24, 24], maxZoom: 17 }); });
        squares.addLayer(m);
      });
      data.incidents.forEach(function (i) {
        var m = L.marker([i.lat, i.lon], {
          icon: L.divIcon({ className: "lw-incident", html: "<span>!</span>", iconSize: [22, 22] }),
          title: cfg.labels.incident + " " + i.code,
        });
        var box = document.createElement("div");
        var link = text("a", cfg.labels.incident + " · " + i.code);
        link.href = "/elevators/" + encodeURIComponent(i.code);
        box.appendChild(link);
        if (i.place) box.appendChild(text("p", i.place, "muted"));
        m.bindPopup(box);
        incidents.addLayer(m);
      });
      el.dataset.points = String(data.elevators.length);
      el.dataset.squares = String(data.cells.length);
      el.dataset.view = data.mode;
      el.dataset.incidents = String(data.incidents.length);
      if (note) {
        note.textContent = data.truncated ? cfg.labels.too_many.replace("{total}", String(data.in_view)) : hint;
      }
    }

    function load() {
      var mine = ++asked;
      var url = cfg.points_url + (cfg.points_url.indexOf("?") < 0 ? "?" : "&") + viewQuery();
      getJSON(url).then(function (data) { if (data && mine === asked) show(data); });
    }
    map.on("moveend", function () {
      if (!big) return;  // a small area's points are all on the map already
      clearTimeout(timer);
      timer = setTimeout(load, 250);
    });
    load();

    function setMode(next) {
      mode = next;
      markers.forEach(function (m) { m.setStyle({ fillColor: colour(m.point) }); });
      ["state", "grade"].forEach(function (k) {
        var b = document.getElementById("colour-" + k);
        if (b) b.setAttribute("aria-pressed", k === mode ? "true" : "false");
        var lg = document.getElementById("legend-" + k);
        if (lg) lg.hidden = k !== mode;
      });
      el.dataset.mode = mode;
    }
    ["state", "grade"].forEach(function (k) {
      var b = document.getElementById("colour-" + k);
      if (b) b.addEventListener("click", function () { setMode(k); });
    });
    el.dataset.mode = mode;
  }

  function init() {
    var cfgEl = document.getElementById("dashboard-config");
    if (!cfgEl) return;
    var cfg = JSON.parse(cfgEl.textContent);
    initMap(cfg);
    drawCharts(cfg, cfg.charts);  // the page carries the charts' series: the area's figures counted once
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
