// kycdesk keyboard shortcuts, on the queue page and the case page. Progressive enhancement:
// every action has a link, button or form without this file. A shortcut never fires while
// the user types (input, textarea, select, contenteditable), with Ctrl, Alt or Meta held, or
// while the image viewer is open (viewer.js and viewerjs own the keys then).
//
// Queue: j / k move the highlighted row, Enter opens it.
// Case:  ] / [ next / previous image, v open it in the viewer, d decision form, e escalation
//        form, n note form.
// Both:  ? shows or hides the list of shortcuts (#shortcuts), Esc hides it.
(function () {
  "use strict";

  function typing(el) {
    if (!el || el === document.body) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  var onCase = !!document.getElementById("case-reference");
  var help = document.getElementById("shortcuts");
  function toggleHelp(open) {
    if (!help) return;
    if (open === undefined) open = !help.classList.contains("open");
    help.classList.toggle("open", open);
    help.setAttribute("role", open ? "dialog" : "region");
    if (open) help.focus();
  }
  if (help) {
    help.addEventListener("click", function (ev) {
      if (ev.target.closest("[data-close-shortcuts]")) toggleHelp(false);
    });
  }

  var toastTimer = null;
  function toast(text) {
    var t = document.querySelector(".kb-toast");
    if (!t) {
      t = document.createElement("div");
      t.className = "kb-toast";
      t.setAttribute("role", "status");
      document.body.appendChild(t);
    }
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 2500);
  }

  // Queue rows.
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue-cases tbody tr"));
  var row = -1;
  function highlight(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (row >= 0) { rows[row].classList.remove("kb-current"); rows[row].removeAttribute("aria-current"); }
    row = i;
    rows[row].classList.add("kb-current");
    rows[row].setAttribute("aria-current", "true");
    rows[row].scrollIntoView({ block: "nearest" });
  }
  function openRow() {
    var a = row >= 0 && rows[row].querySelector("a.ref");
    if (a) { window.location.href = a.href; return true; }
    return false;
  }

  // Case page images (the current round's first, then any opened earlier round's).
  function images() {
    return Array.prototype.slice.call(document.querySelectorAll("figure.doc[data-viewer]")).filter(function (f) {
      return f.querySelector("img") && f.offsetParent !== null;
    });
  }
  var figure = null;
  function stepImage(delta) {
    var figs = images();
    if (!figs.length) return;
    var i = figs.indexOf(figure);
    i = i < 0 ? (delta > 0 ? 0 : figs.length - 1) : (i + delta + figs.length) % figs.length;
    if (figure) figure.classList.remove("kb-current");
    figure = figs[i];
    figure.classList.add("kb-current");
    var a = figure.querySelector("a.doc-frame");
    if (a) a.focus({ preventScroll: true });
    figure.scrollIntoView({ block: "nearest" });
  }

  // The review forms of the action bar. Each names what it is for; a user who may not take
  // the action now has no form, and is told so.
  function focusForm(id, what) {
    var form = document.getElementById(id);
    // The comment or note where there is one (escalate, note), else the form's first control.
    var field = form && (form.querySelector("textarea") || form.querySelector("select, input:not([type=hidden]), button"));
    if (!field) { toast("No " + what + " on this page: the action bar says what you may do now."); return; }
    form.scrollIntoView({ block: "center" });
    field.focus();
  }

  var pending = null;
  document.addEventListener("keyup", function () {
    var run = pending;
    pending = null;
    if (run) run();
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.altKey || ev.metaKey || ev.defaultPrevented) return;
    if (typing(ev.target) || document.body.classList.contains("viewer-open")) return;
    var handled = true;
    var key = ev.key;
    if (!onCase && "][vden".indexOf(key) >= 0) key = "";
    switch (key) {
      case "?": toggleHelp(); break;
      case "Escape": if (help && help.classList.contains("open")) toggleHelp(false); else handled = false; break;
      case "j": if (rows.length) highlight(row + 1); else handled = false; break;
      case "k": if (rows.length) highlight(row - 1); else handled = false; break;
      case "Enter":
        // On a link or button Enter keeps its own meaning; on the page it opens the highlighted row.
        if (!rows.length || ev.target.closest("a, button") || !openRow()) handled = false;
        break;
      case "]": stepImage(1); break;
      case "[": stepImage(-1); break;
      case "v": {
        var a = figure && figure.querySelector("a.doc-frame");
        if (!a) { stepImage(1); a = figure && figure.querySelector("a.doc-frame"); }
        if (a) a.click(); else handled = false;
        break;
      }
      // The field takes focus when the key is released: were it focused on keydown, the
      // letter itself could land in it.
      case "d": pending = function () { focusForm("decision-form", "decision form"); }; break;
      case "e": pending = function () { focusForm("escalate-form", "escalation form"); }; break;
      case "n": pending = function () { focusForm("note-form", "note form"); }; break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });
})();
