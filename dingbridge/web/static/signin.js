/* dingbridge: sign in to an app space (our own code, no library).
 * Inside the DingTalk client: ask the JSAPI for a login-free code for the space's CorpId and
 * post it to the server, which answers where to go next. In an ordinary browser: show the
 * "Sign in with DingTalk" button (DingTalk's OAuth page). */
(function () {
  "use strict";
  var root = document.getElementById("signin");
  if (!root) { return; }
  var dd = window.dd;
  var inClient = !!(dd && dd.env && dd.env.platform && dd.env.platform !== "notInDingTalk");

  function show(id, visible) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !visible; }
  }

  function problem(text) {
    var el = document.getElementById("problem");
    show("in-client", false);
    if (el) { el.textContent = text; el.hidden = false; }
    show("again", true);  // "Sign in again": the person decides, never an endless loop
  }

  // A loop guard: a WebView that drops our cookies would come back here signed out after
  // every sign-in and start again, forever. Automatic starts are counted per tab
  // (sessionStorage); the third within two minutes stops and asks the person instead.
  var LOOP_KEY = "dingbridge-signin:" + root.getAttribute("data-code-url");
  var LOOP_WINDOW = 120000, LOOP_LIMIT = 3;

  function recentStarts() {
    try {
      var now = Date.now();
      var kept = JSON.parse(window.sessionStorage.getItem(LOOP_KEY) || "[]");
      return kept.filter(function (t) { return typeof t === "number" && now - t < LOOP_WINDOW; });
    } catch (e) {
      return [];
    }
  }

  function mayStartAutomatically() {
    var starts = recentStarts();
    if (starts.length >= LOOP_LIMIT) { return false; }
    starts.push(Date.now());
    try { window.sessionStorage.setItem(LOOP_KEY, JSON.stringify(starts)); } catch (e) { /* no storage: no guard */ }
    return true;
  }

  function forgetStarts() {
    try { window.sessionStorage.removeItem(LOOP_KEY); } catch (e) { /* nothing kept */ }
  }

  if (!inClient) {
    if (root.getAttribute("data-for-app") === "1" && mayStartAutomatically()) {
      // An app sent the browser here to sign in: go on to DingTalk's login page at once.
      var link = document.getElementById("dingtalk-login");
      if (link) { window.location.replace(link.getAttribute("href")); return; }
    }
    show("browser", true);
    return;
  }
  show("in-client", true);

  // DingTalk unreachable for a moment: one more try with a fresh code, then the message.
  var retriesLeft = 1;

  function post(code) {
    fetch(root.getAttribute("data-code-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: code, next: root.getAttribute("data-next") })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (result.ok && result.body.next) {
        window.location.replace(result.body.next);
      } else if (result.body.error === "dingtalk_unavailable" && retriesLeft > 0) {
        retriesLeft -= 1;
        window.setTimeout(requestCode, 1500);
      } else {
        problem(result.body.message || result.body.error || "error");
      }
    }, function () {
      problem(root.getAttribute("data-network-error") || "network error");
    });
  }

  function requestCode() {
    // DingTalk's current JSAPI first (dd.requestAuthCode with the app's clientId); clients
    // older than 7.0.45 have only the legacy dd.runtime.permission.requestAuthCode.
    var ask = typeof dd.requestAuthCode === "function" ? dd.requestAuthCode
      : (dd.runtime && dd.runtime.permission && dd.runtime.permission.requestAuthCode);
    if (!ask) {
      problem(root.getAttribute("data-jsapi-error"));
      return;
    }
    ask({
      corpId: root.getAttribute("data-corp-id"),
      clientId: root.getAttribute("data-client-id"),
      onSuccess: function (result) { post(result.code || result.authCode); },
      onFail: function (err) {
        var code = err && (err.errorCode !== undefined ? err.errorCode : err.errCode);
        var text = String(code) === "3" ? root.getAttribute("data-not-member")
          : root.getAttribute("data-jsapi-error");
        problem(text + (err && err.errorMessage ? " (" + err.errorMessage + ")" : ""));
      }
    });
  }

  dd.error(function (err) {
    problem(root.getAttribute("data-jsapi-error") + (err && err.errorMessage ? " (" + err.errorMessage + ")" : ""));
  });
  var again = document.getElementById("signin-again");
  if (again) {
    again.addEventListener("click", function () {
      forgetStarts();
      retriesLeft = 1;
      show("again", false);
      show("problem", false);
      show("in-client", true);
      dd.ready(requestCode);
    });
  }
  if (root.getAttribute("data-auto") === "0") {
    // Just signed out: do not sign straight back in; wait for the person to ask.
    show("in-client", false);
    show("again", true);
    return;
  }
  if (!mayStartAutomatically()) {
    problem(root.getAttribute("data-loop-error"));
    return;
  }
  dd.ready(requestCode);
})();
