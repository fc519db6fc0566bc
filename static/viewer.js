// kycdesk document viewer: zoom, rotate, pan, enlarge and full screen for the case page's
// document and selfie images. Progressive enhancement only: without this file each image is
// a link that opens it in a new tab. It never fetches an image again (every fetch is an
// audited view): it transforms the <img> already on the page.
//
// Keys, on an enlarged image or one whose tools have focus:
//   + / =  zoom in     -  zoom out     0  reset
//   r  rotate right    Shift+R  rotate left
//   f  full screen     Esc  close      ← / →  previous / next image
(function () {
  "use strict";

  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.doc[data-viewer]"));
  var MIN = 0.5, MAX = 8, STEP = 1.25;

  function state(fig) {
    if (!fig._v) fig._v = { scale: 1, rotate: 0, x: 0, y: 0 };
    return fig._v;
  }

  function apply(fig) {
    var s = state(fig), img = fig.querySelector("img");
    if (!img) return;
    img.style.transform = "translate(" + s.x + "px," + s.y + "px) scale(" + s.scale + ") rotate(" + s.rotate + "deg)";
    var out = fig.querySelector("[data-zoom-level]");
    if (out) out.textContent = s.scale === 1 ? "" : Math.round(s.scale * 100) + "%";
  }

  function zoom(fig, factor) {
    var s = state(fig);
    s.scale = Math.min(MAX, Math.max(MIN, s.scale * factor));
    if (s.scale <= 1) { s.x = 0; s.y = 0; }
    apply(fig);
  }

  function rotate(fig, deg) {
    state(fig).rotate = (state(fig).rotate + deg + 360) % 360;
    apply(fig);
  }

  function reset(fig) {
    fig._v = { scale: 1, rotate: 0, x: 0, y: 0 };
    apply(fig);
  }

  var open = null; // the enlarged figure

  function expand(fig) {
    if (open && open !== fig) collapse(open);
    open = fig;
    fig.classList.add("expanded");
    document.body.classList.add("viewer-open");
    fig.setAttribute("role", "dialog");
    fig.setAttribute("aria-modal", "true");
    fig.setAttribute("aria-label", (fig.querySelector("img") || {}).alt || "Document");
    fig.tabIndex = -1;
    fig.focus();
    var btn = fig.querySelector("[data-act=expand]");
    if (btn) { btn.textContent = "Close"; btn.setAttribute("aria-label", "Close (Esc)"); }
  }

  function collapse(fig) {
    if (document.fullscreenElement === fig && document.exitFullscreen) document.exitFullscreen();
    fig.classList.remove("expanded");
    fig.removeAttribute("role");
    fig.removeAttribute("aria-modal");
    document.body.classList.remove("viewer-open");
    reset(fig);
    var btn = fig.querySelector("[data-act=expand]");
    if (btn) { btn.textContent = "Enlarge"; btn.setAttribute("aria-label", "Enlarge"); btn.focus(); }
    if (open === fig) open = null;
  }

  function fullscreen(fig) {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (fig.requestFullscreen) {
      fig.requestFullscreen().catch(function () { expand(fig); });
    } else {
      expand(fig);
    }
  }

  function step(fig, delta) {
    var visible = figures.filter(function (f) { return f.querySelector("img") && f.offsetParent !== null || f === fig; });
    var i = visible.indexOf(fig);
    var next = visible[(i + delta + visible.length) % visible.length];
    if (next && next !== fig) { collapse(fig); expand(next); }
  }

  function tool(label, act, title) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("data-act", act);
    b.setAttribute("aria-label", title);
    b.title = title;
    return b;
  }

  figures.forEach(function (fig) {
    var img = fig.querySelector("img");
    if (!img) return;
    var bar = document.createElement("span");
    bar.className = "viewer-tools";
    var level = document.createElement("span");
    level.className = "muted";
    level.setAttribute("data-zoom-level", "");
    level.setAttribute("aria-live", "polite");
    bar.appendChild(level);
    bar.appendChild(tool("−", "out", "Zoom out (-)"));
    bar.appendChild(tool("+", "in", "Zoom in (+)"));
    bar.appendChild(tool("⟲", "left", "Rotate left (Shift+R)"));
    bar.appendChild(tool("⟳", "right", "Rotate right (R)"));
    bar.appendChild(tool("1:1", "reset", "Reset (0)"));
    bar.appendChild(tool("Enlarge", "expand", "Enlarge"));
    bar.appendChild(tool("Full screen", "full", "Full screen (F)"));
    fig.querySelector("figcaption").appendChild(bar);

    bar.addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) return;
      switch (b.getAttribute("data-act")) {
        case "in": zoom(fig, STEP); break;
        case "out": zoom(fig, 1 / STEP); break;
        case "left": rotate(fig, -90); break;
        case "right": rotate(fig, 90); break;
        case "reset": reset(fig); break;
        case "expand": if (open === fig) collapse(fig); else expand(fig); break;
        case "full": fullscreen(fig); break;
      }
    });

    // A plain click enlarges in place; a click with a modifier still opens the new tab.
    fig.querySelector("a.doc-frame").addEventListener("click", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      if (open !== fig) expand(fig);
    });

    fig.addEventListener("wheel", function (ev) {
      if (open !== fig && document.fullscreenElement !== fig) return;
      ev.preventDefault();
      zoom(fig, ev.deltaY < 0 ? STEP : 1 / STEP);
    }, { passive: false });

    // Drag to pan a zoomed image.
    var drag = null;
    img.addEventListener("pointerdown", function (ev) {
      if (state(fig).scale <= 1) return;
      drag = { x: ev.clientX, y: ev.clientY, sx: state(fig).x, sy: state(fig).y };
      img.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });
    img.addEventListener("pointermove", function (ev) {
      if (!drag) return;
      state(fig).x = drag.sx + ev.clientX - drag.x;
      state(fig).y = drag.sy + ev.clientY - drag.y;
      apply(fig);
    });
    img.addEventListener("pointerup", function () { drag = null; });
    img.addEventListener("dragstart", function (ev) { ev.preventDefault(); });
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var fig = open || document.fullscreenElement ||
      (document.activeElement && document.activeElement.closest && document.activeElement.closest("figure.doc[data-viewer]"));
    if (!fig || !fig.querySelector || !fig.querySelector("img")) return;
    var handled = true;
    switch (ev.key) {
      case "+": case "=": zoom(fig, STEP); break;
      case "-": case "_": zoom(fig, 1 / STEP); break;
      case "0": reset(fig); break;
      case "r": rotate(fig, 90); break;
      case "R": rotate(fig, -90); break;
      case "f": case "F": fullscreen(fig); break;
      case "Escape": if (open === fig) collapse(fig); else handled = false; break;
      case "ArrowRight": if (open === fig) step(fig, 1); else handled = false; break;
      case "ArrowLeft": if (open === fig) step(fig, -1); else handled = false; break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });
})();
