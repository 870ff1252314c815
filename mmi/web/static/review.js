// The workbench's keyboard: j/k next/previous, Enter open, x select, m match, n not a match, s skip, u queue,
// ? help. Our own small script (no framework), loaded from /ui/static under a CSP without 'unsafe-inline'.
// Every key has a visible control behind it: the pages work with scripts off, the keys only make them faster.
(function () {
  "use strict";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function say(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = text; }
  }

  function follow(key) {
    var control = document.querySelector('[data-key="' + key + '"]');
    if (control) { control.click(); return true; }
    return false;
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-item-row]")); }

  function moveRow(step) {
    var all = rows();
    if (!all.length) { return; }
    var current = all.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = Math.max(0, Math.min(all.length - 1, current < 0 ? 0 : current + step));
    all.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-current"); });
    all[next].classList.add("selected");
    all[next].setAttribute("aria-current", "true");
    var link = all[next].querySelector("[data-item-link]");
    if (link) { link.focus(); }
  }

  function toggleSelected() {
    var row = document.querySelector("[data-item-row].selected");
    var box = row && row.querySelector('input[type="checkbox"]');
    if (box) { box.checked = !box.checked; }
  }

  function choose(value) {
    var radio = document.querySelector('input[name="decision"][value="' + value + '"]');
    if (!radio) { return; }
    radio.checked = true;
    var reason = document.getElementById("reason");
    if (reason && reason.value.trim()) {
      radio.form.requestSubmit();
    } else if (reason) {
      reason.focus();
      say(reason.getAttribute("data-needs-reason") || "");
    }
  }

  function help() {
    var dialog = document.getElementById("help");
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  var onQueue = { j: function () { moveRow(1); }, k: function () { moveRow(-1); }, x: toggleSelected };
  var onItem = {
    j: function () { follow("j"); }, k: function () { follow("k"); }, s: function () { follow("s"); },
    u: function () { follow("u"); }, m: function () { choose("match"); }, n: function () { choose("not_match"); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    if (event.key === "?") { event.preventDefault(); help(); return; }
    var keys = { queue: onQueue, item: onItem }[document.body.getAttribute("data-page")] || {};
    var action = keys[event.key];
    if (action) { event.preventDefault(); action(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var opener = document.querySelector("[data-help-open]");
    if (opener) { opener.addEventListener("click", help); }
  });
})();
