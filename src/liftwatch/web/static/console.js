// liftwatch 96333 console. Pages work without it; with it:
// - the board marks a new alarm (an incident the board had not shown before in this tab) with a highlight
//   for a minute and plays a short tone (Web Audio, no file), unless the operator muted it (remembered in
//   localStorage). Browsers allow sound only after a click or key press on the page: until then a hint
//   says so.
// - the incident page's live part (htmx, every 5 s) is not refreshed while a form in it is being filled in.
// - a form with data-confirm asks before it posts.
(function () {
  "use strict";

  var MUTE_KEY = "liftwatch.console.muted";
  var SEEN_KEY = "liftwatch.console.seen";
  var FRESH_KEY = "liftwatch.console.fresh";
  var HIGHLIGHT_MS = 60000;
  var audio = null;

  function load(storage, key, fallback) {
    try {
      var value = storage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function save(storage, key, value) {
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* private mode or full: the page still works, it only forgets */
    }
  }

  function muted() {
    return load(window.localStorage, MUTE_KEY, false) === true;
  }

  function count(name) {
    var n = Number(document.body.dataset[name] || "0") + 1;
    document.body.dataset[name] = String(n);
  }

  // ---------------------------------------------------------------- sound

  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (audio === null) audio = new Context();
    if (audio.state === "suspended") audio.resume();
    var hint = document.getElementById("sound-blocked");
    if (hint) hint.hidden = true;
  }

  function beep(at, frequency) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.3);
  }

  function playAlert() {
    count("alerts");
    if (muted()) return;
    if (audio === null || audio.state !== "running") {
      var hint = document.getElementById("sound-blocked");
      if (hint) hint.hidden = false;
      return;
    }
    var now = audio.currentTime;
    beep(now, 880);
    beep(now + 0.35, 660);
    beep(now + 0.7, 880);
    count("sounds");
  }

  function showMute() {
    var button = document.getElementById("sound-toggle");
    if (!button) return;
    var on = muted();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("is-muted", on);
  }

  // ---------------------------------------------------------------- the board: new alarms

  function scanBoard() {
    var board = document.getElementById("board");
    if (!board) return;
    var rows = board.querySelectorAll("tr[data-incident]");
    var shown = [];
    rows.forEach(function (row) { shown.push(row.dataset.incident); });
    var seen = load(window.sessionStorage, SEEN_KEY, null);
    var fresh = load(window.sessionStorage, FRESH_KEY, {});
    var now = Date.now();
    var arrived = [];
    if (seen === null) {
      seen = shown;  // the first look in this tab: what is there is not news
    } else {
      rows.forEach(function (row) {
        var id = row.dataset.incident;
        if (seen.indexOf(id) === -1) {
          seen.push(id);
          if (row.dataset.status !== "released") {
            fresh[id] = now;
            arrived.push(row);
          }
        }
      });
    }
    rows.forEach(function (row) {
      var since = fresh[row.dataset.incident];
      var isNew = since !== undefined && now - since < HIGHLIGHT_MS;
      row.classList.toggle("is-new", isNew);
      row.dataset.new = isNew ? "true" : "false";
      var flag = row.querySelector(".flag-new");
      if (flag) flag.hidden = !isNew;
    });
    Object.keys(fresh).forEach(function (id) {
      if (now - fresh[id] >= HIGHLIGHT_MS || shown.indexOf(id) === -1) delete fresh[id];
    });
    seen = seen.filter(function (id) { return shown.indexOf(id) !== -1; }).concat(
      shown.filter(function (id) { return seen.indexOf(id) === -1; })
    );
    save(window.sessionStorage, SEEN_KEY, seen);
    save(window.sessionStorage, FRESH_KEY, fresh);
    if (arrived.length) {
      announce(arrived);
      playAlert();
    }
  }

  // A screen reader hears it too: "新报警 #12".
  function announce(rows) {
    var region = document.getElementById("board-announce");
    if (!region) return;
    region.textContent = rows.map(function (row) {
      var flag = row.querySelector(".flag-new");
      return (flag ? flag.textContent : "") + " #" + row.dataset.incident;
    }).join("，");
  }

  // ---------------------------------------------------------------- the incident page: pause while typing

  function dirty(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "hidden" || el.type === "submit") return false;
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") {
        var initial = Array.prototype.findIndex.call(el.options, function (o) { return o.defaultSelected; });
        return el.selectedIndex !== (initial === -1 ? 0 : initial);  // none marked: the first is shown
      }
      return typeof el.value === "string" && el.value !== el.defaultValue;
    });
  }

  function mayRefresh(live) {
    var active = document.activeElement;
    var typing = active && active.form && live.contains(active);
    var forms = live.querySelectorAll("form");
    return !typing && !Array.prototype.some.call(forms, dirty);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var live = event.target;
    if (!(live instanceof HTMLElement) || live.id !== "incident-live") return;
    var ok = mayRefresh(live);
    var hint = live.querySelector(".live-paused");
    if (hint) hint.hidden = ok;
    if (!ok) event.preventDefault();
  });

  // ---------------------------------------------------------------- wiring

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    unlockAudio();
    var button = event.target instanceof Element ? event.target.closest("#sound-toggle") : null;
    if (button) {
      save(window.localStorage, MUTE_KEY, !muted());
      showMute();
    }
    var row = event.target instanceof Element ? event.target.closest("tr.is-new") : null;
    if (row) {
      var fresh = load(window.sessionStorage, FRESH_KEY, {});
      delete fresh[row.dataset.incident];
      save(window.sessionStorage, FRESH_KEY, fresh);
      row.classList.remove("is-new");
      row.dataset.new = "false";
    }
  });
  document.addEventListener("keydown", unlockAudio);
  document.addEventListener("htmx:afterSettle", scanBoard);
  document.addEventListener("DOMContentLoaded", function () {
    showMute();
    scanBoard();
  });
  window.liftwatchConsole = { scanBoard: scanBoard, muted: muted };
})();
