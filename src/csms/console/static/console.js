// Live updates of the console's pages (docs/console.md): one EventSource on /api/v1/events
// (the session cookie authenticates it); elements marked with data attributes are updated in
// place, without reloading. Pages say what they want in <body data-live="kinds"> and, for one
// charge point, data-cp.
// Forms sent to the operator API (form.api, console/templates/_api.html): the fields become
// the JSON body (multipart for a file), {name} in data-path is taken from the field of that
// name, the session's CSRF token goes in X-CSRF-Token. A field named "a.b" goes into the body
// as {"a": {"b": ...}}. On success the answer is kept for the reloaded page to show; a refusal
// shows the API's message, naming the field, in the form, and marks the fields it names
// (aria-invalid).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var KEY = "csms-answer";

  function showAnswer(title, text, ok) {
    var box = document.getElementById("answer");
    if (!box) return;
    box.querySelector("h2").textContent = title;
    box.querySelector("pre").textContent = text;
    box.className = "card answer " + (ok ? "ok" : "bad");
    box.hidden = false;
  }
  var kept = window.sessionStorage && sessionStorage.getItem(KEY);
  if (kept) {
    sessionStorage.removeItem(KEY);
    try { var a = JSON.parse(kept); showAnswer(a.title, a.text, a.ok); } catch (e) { /* stale */ }
  }

  function value(el) {
    var type = el.dataset.type;
    if (el.type === "checkbox") {
      if (type === "bool") return el.checked;
      return el.checked ? (el.value || "true") : null;
    }
    var text = el.value.trim();
    if (text === "") return type === "null" ? null : undefined;
    // Not a number: sent as typed, for the API to refuse naming the field.
    if (type === "int") return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
    if (type === "number") return /^-?\d{1,15}(\.\d{1,15})?$/.test(text) ? Number(text) : text;
    if (type === "list") return text.split(/[\s,]+/).filter(function (t) { return t; });
    if (type === "datetime") {
      var when = new Date(text);
      return isNaN(when.getTime()) ? text : when.toISOString();
    }
    return text;
  }

  // body["a"]["b"] = v for the field "a.b".
  function put(body, name, v) {
    var parts = name.split("."), at = body;
    parts.slice(0, -1).forEach(function (part) {
      if (typeof at[part] !== "object" || at[part] === null) at[part] = {};
      at = at[part];
    });
    at[parts[parts.length - 1]] = v;
  }

  function request(form) {
    var path = form.dataset.path, body = {}, query = [], multipart = form.classList.contains("multipart");
    var data = multipart ? new FormData() : null;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      var v = value(el);
      var placeholder = "{" + el.name + "}";
      if (path.indexOf(placeholder) >= 0) {
        path = path.replace(placeholder, encodeURIComponent(el.value.trim()));
      } else if (el.dataset.in === "query") {
        if (v !== null && v !== undefined) query.push(encodeURIComponent(el.name) + "=" + encodeURIComponent(v));
      } else if (multipart) {
        if (el.type === "file") { if (el.files.length) data.append(el.name, el.files[0]); }
        else if (v !== undefined && v !== null) data.append(el.name, v);
      } else if (v !== undefined) {
        put(body, el.name, v);
      }
    });
    var headers = {"Accept": "application/json", "X-CSRF-Token": meta ? meta.content : ""};
    var init = {method: form.dataset.method, credentials: "same-origin", headers: headers};
    if (multipart) { init.body = data; }
    else if (form.dataset.method !== "DELETE") {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path + (query.length ? "?" + query.join("&") : ""), init);
  }

  // The names of the fields a refusal is about: FastAPI's validation errors name them (loc,
  // "rules.maxKeys" for a nested one), our own messages start with one ("vendor: ...").
  function named(answer) {
    var detail = answer && answer.detail;
    if (Array.isArray(detail)) {
      return detail.map(function (d) {
        var loc = (d.loc || []).filter(function (p) { return p !== "body"; });
        if (loc[0] === "query" || loc[0] === "path") loc = loc.slice(1);
        return loc.join(".");
      });
    }
    var first = typeof detail === "string" && /^([\w.]+): /.exec(detail);
    return first ? [first[1]] : [];
  }

  function markInvalid(form, names) {
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
    names.forEach(function (name) {
      var field = name && form.elements.namedItem(name);
      if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
      // A rule refused by its own name ("heartbeatInterval: ..."), its field "rules.x".
      else if (name && form.elements.namedItem("rules." + name)) {
        form.elements.namedItem("rules." + name).setAttribute("aria-invalid", "true");
      }
    });
  }

  // The API's refusal as a sentence: FastAPI's validation errors name the field (loc).
  function refusal(status, answer) {
    var detail = answer && answer.detail;
    if (Array.isArray(detail)) {
      var names = named(answer);
      return detail.map(function (d, i) {
        return (names[i] ? names[i] + ": " : "") + d.msg;
      }).join("; ");
    }
    if (typeof detail === "string") return detail;
    if (answer && answer.errorCode) {
      return "the charge point answered " + answer.errorCode +
        (answer.errorDescription ? ": " + answer.errorDescription : "");
    }
    return "HTTP " + status;
  }

  document.querySelectorAll("form.api").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector(".form-error");
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      var button = form.querySelector("button[type=submit]");
      // A field that names the resource (in the path) must be given: no request without it.
      var missing = (form.dataset.path.match(/\{(\w+)\}/g) || []).map(function (p) {
        return p.slice(1, -1);
      }).filter(function (name) { return !form.elements[name] || !form.elements[name].value.trim(); });
      if (missing.length) {
        if (error) { error.textContent = missing.join(", ") + ": needed"; error.hidden = false; }
        return;
      }
      if (button) button.disabled = true;
      if (error) error.hidden = true;
      var title = (form.querySelector(".form-title") || button || {}).textContent || "Done";
      request(form).then(function (response) {
        return response.text().then(function (text) {
          var answer = null;
          try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = null; }
          if (response.ok) {
            var shown = answer === null ? "Done (HTTP " + response.status + ")" : JSON.stringify(answer, null, 2);
            if (window.sessionStorage) {
              sessionStorage.setItem(KEY, JSON.stringify({title: title, text: shown, ok: true}));
            }
            window.location.reload();
            return;
          }
          if (error) {
            error.textContent = "HTTP " + response.status + ": " + refusal(response.status, answer);
            error.hidden = false;
          }
          markInvalid(form, named(answer));
          if (button) button.disabled = false;
        });
      }).catch(function (e) {
        if (error) { error.textContent = "Not sent: " + e; error.hidden = false; }
        if (button) button.disabled = false;
      });
    });
  });
})();

(function () {
  "use strict";
  var body = document.body;
  var kinds = body.dataset.live;
  if (!kinds || !window.EventSource) return;
  var cp = body.dataset.cp;
  var url = "/api/v1/events?types=" + encodeURIComponent(kinds);
  if (cp) url += "&chargePointId=" + encodeURIComponent(cp);
  // From the moment the page was rendered: what happened while it loaded is not missed.
  if (body.dataset.eventsFrom) url += "&lastEventId=" + encodeURIComponent(body.dataset.eventsFrom);
  var source = new EventSource(url);
  window.csmsLive = source;

  function text(el, value) { if (el) el.textContent = value; }
  function cell(row, field) { return row && row.querySelector('[data-field="' + field + '"]'); }
  function time(iso) { return (iso || "").replace("T", " ").replace(/\.\d+/, "").replace("Z", ""); }
  function on(kind, handler) {
    source.addEventListener(kind, function (e) { handler(JSON.parse(e.data)); });
  }
  function connection(id, connected) {
    document.querySelectorAll('[data-cp-connection]').forEach(function (el) {
      if (el.dataset.cpConnection !== id) return;
      el.textContent = connected ? "connected" : "offline";
      el.className = "conn " + (connected ? "on" : "off");
    });
  }

  on("connected", function (e) { connection(e.chargePointId, true); });
  on("disconnected", function (e) { connection(e.chargePointId, false); });
  on("booted", function (e) {
    if (e.chargePointId !== cp) return;
    text(document.querySelector('[data-boot="vendor"]'), e.data.vendor);
    text(document.querySelector('[data-boot="model"]'), e.data.model);
    text(document.querySelector('[data-boot="firmwareVersion"]'), e.data.firmwareVersion || "");
  });
  on("status", function (e) {
    var table = document.getElementById("connectors");
    if (!table || e.chargePointId !== cp) return;
    var d = e.data;
    var row = table.querySelector('tr[data-connector="' + d.connectorId + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.connector = d.connectorId;
      row.innerHTML = "<td></td><td><span class=\"status\" data-field=\"status\"></span></td>" +
        "<td data-field=\"errorCode\"></td><td data-field=\"info\"></td><td data-field=\"timestamp\"></td>";
      row.firstChild.textContent = d.connectorId;
      table.tBodies[0].appendChild(row);
    }
    var status = cell(row, "status");
    status.textContent = d.status;
    status.className = "status status-" + d.status;
    text(cell(row, "errorCode"), d.errorCode);
    text(cell(row, "info"), d.info || "");
    text(cell(row, "timestamp"), time(d.timestamp));
  });
  // The Overview (data-overview): its figures are read again from GET /api/v1/overview when an
  // event may have changed them (one request at a time, at most one waiting); new transactions
  // and faults are added to its tables.
  var overview = body.dataset.overview !== undefined;
  // At most one read a second: a busy fleet sends many events.
  var reading = false, again = false, startedAt = 0;
  function refreshFigures() {
    if (!overview) return;
    if (reading) { again = true; return; }
    reading = true;
    startedAt = Date.now();
    fetch("/api/v1/overview", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (figures) {
        if (!figures) return;
        document.querySelectorAll("[data-figure]").forEach(function (el) {
          var value = figures[el.dataset.figure];
          if (value === undefined) return;
          var decimals = el.dataset.decimals;
          el.textContent = decimals ? Number(value).toFixed(Number(decimals)) : String(value);
        });
      })
      .catch(function () {})
      .then(function () {
        var wait = Math.max(0, 1000 - (Date.now() - startedAt));
        window.setTimeout(function () {
          reading = false;
          if (again) { again = false; refreshFigures(); }
        }, wait);
      });
  }
  ["connected", "disconnected", "booted", "status", "transaction.started",
    "transaction.stopped", "unknown"].forEach(function (kind) { on(kind, refreshFigures); });
  function prepend(table, values, link) {
    var none = table.querySelector("tr.none");
    if (none) none.remove();
    var row = table.tBodies[0].insertRow(0);
    values.forEach(function (v, i) {
      var td = row.insertCell();
      if (link && link[i]) {
        var a = document.createElement("a");
        a.href = link[i];
        a.textContent = v;
        td.appendChild(a);
      } else {
        td.textContent = v;
      }
    });
    return row;
  }
  if (overview) {
    on("transaction.started", function (e) {
      var table = document.getElementById("active-transactions");
      var d = e.data;
      if (!table || table.querySelector('tr[data-transaction="' + d.transactionId + '"]')) return;
      var row = prepend(table, [d.transactionId, e.chargePointId, d.connectorId, d.idTag,
        time(d.timestamp)], ["/transactions/" + d.transactionId,
        "/charge-points/" + encodeURIComponent(e.chargePointId)]);
      row.dataset.transaction = d.transactionId;
    });
    on("status", function (e) {
      var d = e.data, table = document.getElementById("alerts");
      if (!table || (d.status !== "Faulted" && (!d.errorCode || d.errorCode === "NoError"))) return;
      var row = prepend(table.parentNode, [e.chargePointId, d.connectorId, d.status, d.errorCode,
        d.info || "", d.timestamp], ["/charge-points/" + encodeURIComponent(e.chargePointId)]);
      row.className = "fresh";
    });
  }

  on("transaction.started", function (e) {
    var table = document.getElementById("transactions");
    if (!table || e.chargePointId !== cp || !document.getElementById("connectors")) return;
    var d = e.data;
    if (table.querySelector('tr[data-transaction="' + d.transactionId + '"]')) return;
    var none = table.querySelector("tr.none");
    if (none) none.remove();
    var row = document.createElement("tr");
    row.dataset.transaction = d.transactionId;
    row.dataset.meterStart = d.meterStart;
    var link = "<a href=\"/transactions/" + d.transactionId + "\"></a>";
    row.innerHTML = "<td>" + link + "</td><td></td><td></td><td></td>" +
      "<td data-field=\"power\"></td><td data-field=\"energy\">0.000</td>";
    row.cells[0].firstChild.textContent = d.transactionId;
    text(row.cells[1], d.connectorId);
    text(row.cells[2], d.idTag);
    text(row.cells[3], time(d.timestamp).slice(11));
    table.tBodies[0].appendChild(row);
    var stop = document.querySelector('form[data-operation="remote-stop"] input[name="transactionId"]');
    if (stop && !stop.value) stop.value = d.transactionId;
  });
  on("transaction.stopped", function (e) {
    var row = document.querySelector('tr[data-transaction="' + e.data.transactionId + '"]');
    if (row) row.remove();
  });
  on("meter", function (e) {
    var d = e.data;
    var row = document.querySelector('tr[data-transaction="' + d.transactionId + '"]');
    if (!row) return;
    if (d.powerW !== null) text(cell(row, "power"), (d.powerW / 1000).toFixed(2));
    if (d.energyWh !== null) {
      var start = Number(row.dataset.meterStart || 0);
      text(cell(row, "energy"), ((d.energyWh - start) / 1000).toFixed(3));
    }
  });
  on("message", function (e) {
    var table = document.getElementById("messages");
    if (!table || table.dataset.liveRows !== "yes" || e.chargePointId !== cp) return;
    var d = e.data;
    var none = table.querySelector("tr.none");
    if (none) none.remove();
    var row = table.tBodies[0].insertRow(0);
    row.className = "dir-" + d.direction + " fresh";
    var values = [time(e.time).replace(" ", " "), d.direction === "out" ? "→ CP" : "← CP",
      d.messageType, d.action || "", d.uniqueId || ""];
    values.forEach(function (v) { row.insertCell().textContent = v; });
    row.cells[0].className = "nowrap";
    row.cells[4].className = "mono";
    var code = document.createElement("code");
    code.className = "frame";
    code.textContent = d.text;
    row.insertCell().appendChild(code);
  });
})();
