/* dingbridge simulator: a stand-in for DingTalk's dingtalk.open.js (our own code).
 * Implements dd.ready, dd.error, dd.config, dd.env.platform,
 * dd.runtime.permission.requestAuthCode and dd.requestAuthCode against the simulator that
 * served this file (an old client, /_sim/open?client=legacy, has only the first). "Inside DingTalk" means the browser went through /_sim/open first. */
(function () {
  "use strict";
  var SIM = new URL(document.currentScript.src).origin;
  var CLIENT = /*CLIENT*/null;
  var readyCallbacks = [];
  var errorCallbacks = [];
  var phase = "pending";
  var configCalled = false;
  var configError = null;

  function later(fn, arg) {
    setTimeout(function () { fn(arg); }, 0);
  }

  function settle(newPhase, arg) {
    phase = newPhase;
    var list = newPhase === "ready" ? readyCallbacks : errorCallbacks;
    readyCallbacks = [];
    errorCallbacks = [];
    list.forEach(function (cb) { later(cb, arg); });
  }

  function ask(path, params) {
    var url = new URL(SIM + path);
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      url.searchParams.set(key, value === undefined || value === null ? "" : String(value));
    });
    return fetch(url.toString(), { credentials: "include" }).then(function (r) { return r.json(); });
  }

  function withCallbacks(promise, options) {
    var onSuccess = options.onSuccess || options.success;
    var onFail = options.onFail || options.fail;
    promise.then(function (result) {
      if (onSuccess) { onSuccess(result); }
    }, function (err) {
      if (onFail) { onFail(err); }
    });
    if (onFail) { promise.catch(function () {}); }
    return promise;
  }

  function authCodeApi(api) {
    return function (options) { return requestAuthCode(api, options); };
  }

  function requestAuthCode(api, options) {
    options = options || {};
    var promise;
    if (!CLIENT) {
      promise = Promise.reject({ errorCode: -1, errorMessage: "当前不在钉钉客户端内，无法调用该JSAPI" });
    } else {
      promise = ask("/_sim/jsapi/authcode", { api: api, corpId: options.corpId, clientId: options.clientId })
        .then(function (body) {
          if (body.code) { return { code: body.code }; }
          throw { errorCode: body.errorCode, errorMessage: body.errorMessage };
        });
    }
    return withCallbacks(promise, options);
  }

  var dd = {
    version: "dingbridge-sim",
    env: { platform: CLIENT ? CLIENT.platform : "notInDingTalk" },
    ready: function (cb) {
      if (phase === "ready") { later(cb); } else { readyCallbacks.push(cb); }
    },
    error: function (cb) {
      if (phase === "error") { later(cb, configError); } else { errorCallbacks.push(cb); }
    },
    config: function (options) {
      configCalled = true;
      options = options || {};
      ask("/_sim/jsapi/config", {
        agentId: options.agentId, corpId: options.corpId, timeStamp: options.timeStamp,
        nonceStr: options.nonceStr, signature: options.signature,
        url: location.href.split("#")[0]
      }).then(function (body) {
        if (body.ok) { settle("ready"); return; }
        configError = { errorCode: body.errorCode, errorMessage: body.errorMessage };
        settle("error", configError);
      }, function (err) {
        configError = { errorCode: -1, errorMessage: String(err) };
        settle("error", configError);
      });
    },
    runtime: { permission: { requestAuthCode: authCodeApi("runtime.permission.requestAuthCode") } }
  };
  // An old client (/_sim/open?client=legacy) has only the legacy API.
  if (!CLIENT || CLIENT.client !== "legacy") {
    dd.requestAuthCode = authCodeApi("requestAuthCode");
  }

  // Without dd.config, dd.ready fires once the page has parsed (免登 needs no config).
  // dd.config must therefore be called before DOMContentLoaded to gate dd.ready.
  function readyWithoutConfig() {
    setTimeout(function () {
      if (!configCalled && phase === "pending") { settle("ready"); }
    }, 0);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", readyWithoutConfig);
  } else {
    readyWithoutConfig();
  }
  window.dd = dd;
})();
