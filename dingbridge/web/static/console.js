// dingbridge admin console: copy buttons, busy buttons, background job progress. No libraries.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (an intranet address): the clipboard API is not offered, use a selection.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function selectNode(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var label = button.textContent;
    copyText(source.textContent.trim()).then(function () {
      button.textContent = button.getAttribute("data-done") || label;
      button.classList.add("done");
      setTimeout(function () { button.textContent = label; button.classList.remove("done"); }, 1500);
    }, function () {
      selectNode(source); // at least select it, so Ctrl+C works
    });
  });

  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[data-busy]");
    if (button) {
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy");
    }
  });

  // A background job (the members page's directory import, the directory sync page's sync):
  // poll its progress record while it runs, reload at its result when it ends.
  function pollJob(id) {
    var progress = document.getElementById(id);
    if (!progress || progress.getAttribute("data-status") !== "running") { return; }
    var url = progress.getAttribute("data-poll");
    var counts = document.getElementById(id + "-counts");
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { return; }
          if (state.status !== "running") {
            // Reload without the "started" notice, at the result.
            window.location.replace(window.location.pathname + "#" + id);
            if (!window.location.search) { window.location.reload(); }
            return;
          }
          var p = state.progress || {};
          if (counts) {
            counts.textContent = (p.departments_done || 0) + "/" + (p.departments_found || 1) +
              " · " + (p.users_seen || 0);
          }
          setTimeout(poll, 1000);
        }, function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 700);
  }
  pollJob("directory-import");
  pollJob("sync");
})();
