// Control room: the deadline countdown and a run's live progress (polling the progress endpoint).
(function () {
  "use strict";
  // words of the page's language, given by the server on the progress table
  var CHECKS = {}, VERDICTS = {};
  var POLL_MS = 400;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.until) - now) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
      el.textContent = d + " " + (el.dataset.day || "ngày") + " " + pad(h) + ":" + pad(m) + ":" + pad(left % 60);
    });
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text || "";
    return td;
  }

  function rowFor(tbody, service, check) {
    var key = service + "|" + check;
    var row = tbody.querySelector('tr[data-key="' + CSS.escape(key) + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.key = key;
      row.appendChild(cell(service));
      row.appendChild(cell(CHECKS[check] || check));
      row.appendChild(cell("", "st"));
      row.appendChild(cell("", "step"));
      row.appendChild(cell("", "el"));
      tbody.appendChild(row);
    }
    return row;
  }

  function apply(tbody, log, e) {
    var lines = e.lines || [e.what || e.reason || ""];
    lines = lines.filter(function (l) { return l; });
    if (lines.length) {
      log.textContent += lines.join("\n") + "\n";
      var all = log.textContent.split("\n");
      if (all.length > 80) log.textContent = all.slice(-80).join("\n");
      log.scrollTop = log.scrollHeight;
    }
    if (!e.service || !e.check) return;
    var row = rowFor(tbody, e.service, e.check);
    // a check's time runs from its first step (its flows may run while an earlier check needs them) to its end
    if (!row.dataset.started && (e.event === "step" || (e.event === "check" && e.state === "start"))) {
      row.dataset.started = String(e.t || Date.now() / 1000);
    }
    if (e.event === "check" && e.state === "start") {
      row.querySelector(".st").textContent = "…";
    } else if (e.event === "check" && e.state === "end") {
      row.dataset.ended = "1";
      row.querySelector(".st").textContent = VERDICTS[e.verdict] || e.verdict || "";
      var seconds = Math.max(e.t ? e.t - Number(row.dataset.started || e.t) : 0, e.seconds || 0);
      row.querySelector(".el").textContent = seconds.toFixed(1) + " s";
    } else if (e.event === "step" && !row.dataset.ended) {
      row.querySelector(".st").textContent = "…";
      row.querySelector(".step").textContent = e.what || "";
    }
  }

  function renderPrompts(box, prompts, csrf) {
    box.innerHTML = "";
    var section = document.getElementById("prompts");
    section.hidden = !prompts.length;
    if (!prompts.length) {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = box.dataset.empty;
      box.appendChild(p);
      return;
    }
    prompts.forEach(function (pr) {
      var form = document.createElement("form");
      form.className = "prompt";
      form.method = "post";
      form.action = "/lan-chay/" + box.dataset.run + "/nhac/" + encodeURIComponent(pr.id);
      form.dataset.prompt = pr.id;
      var token = document.createElement("input");
      token.type = "hidden"; token.name = "csrf"; token.value = csrf;
      var what = document.createElement("p");
      var code = document.createElement("strong");
      code.textContent = pr.dossier_code || "";
      what.appendChild(code);
      what.appendChild(document.createTextNode(" (" + pr.service_id + "): " + pr.instruction));
      var due = document.createElement("p");
      due.innerHTML = "<small></small>";
      due.firstChild.textContent = box.dataset.deadlineWord + ": " + pr.deadline;
      var button = document.createElement("button");
      button.type = "submit";
      button.textContent = box.dataset.done;
      form.append(token, what, due, button);
      box.appendChild(form);
    });
  }

  function tickElapsed(tbody) {
    var now = Date.now() / 1000;
    tbody.querySelectorAll("tr[data-started]").forEach(function (row) {
      if (row.dataset.ended) return;
      row.querySelector(".el").textContent = (now - Number(row.dataset.started)).toFixed(0) + " s";
    });
  }

  function follow(board) {
    var run = board.dataset.run, after = Number(board.dataset.after || 0);
    var tbody = board.querySelector("tbody"), log = document.getElementById("log-tail");
    var state = document.getElementById("run-state"), box = document.getElementById("prompt-list");
    var meta = document.querySelector('meta[name="csrf-token"]');
    var csrf = meta ? meta.content : "";
    var shownPrompts = "";
    function poll() {
      fetch("/lan-chay/" + run + "/tien-do?after=" + after, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) {
          data.events.forEach(function (e, i) {
            apply(tbody, log, e);
            after = typeof e.index === "number" ? e.index : after + 1;
          });
          board.dataset.after = String(after);
          state.textContent = data.state_word;
          state.dataset.state = data.state;
          var ids = data.prompts.map(function (p) { return p.id; }).join(",");
          if (ids !== shownPrompts) { shownPrompts = ids; renderPrompts(box, data.prompts, csrf); }
          tickElapsed(tbody);
          if (data.active) setTimeout(poll, POLL_MS);
          else window.location.reload();
        })
        .catch(function () { setTimeout(poll, POLL_MS * 5); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickCountdowns();
    if (document.querySelector(".countdown")) setInterval(tickCountdowns, 1000);
    var board = document.getElementById("board");
    if (board && board.dataset.words) {
      var words = JSON.parse(board.dataset.words);
      CHECKS = words.checks || {};
      VERDICTS = words.verdicts || {};
    }
    if (board && board.dataset.active === "1") follow(board);
  });
})();
