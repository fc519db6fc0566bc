// kycdesk document viewer: the case page's document and selfie images in viewerjs
// (static/vendor/viewer-1.15.0.min.js): zoom, rotate, flip, fit, 1:1, full screen, previous
// and next, keyboard. Progressive enhancement only: without scripts each image is a link that
// opens it in a new tab.
//
// Every fetch of a document is an audited view, so the viewer never fetches an image again:
// it shows a copy of the <img> already loaded on the page.
//
// Keys in the viewer (viewerjs's own, and these):
//   ← / →  previous / next    + / -  zoom    r / Shift+R  rotate right / left
//   0  fit to the screen      1  actual size   f  full screen   Esc  close
(function () {
  "use strict";

  function init() {
    var root = document.getElementById("documents");
    if (!root || typeof window.Viewer !== "function") return;
    var figures = Array.prototype.slice.call(root.querySelectorAll("figure.doc[data-viewer]")).filter(function (f) {
      return f.querySelector("img");
    });
    if (!figures.length) return;

    // copyOf returns the loaded image as a data: URL (the CSP allows data: images), or its own
    // URL when it has not loaded yet (an earlier round's image in a closed section).
    function copyOf(img) {
      if (img.dataset.copy) return img.dataset.copy;
      if (!img.complete || !img.naturalWidth) return img.src;
      try {
        var c = document.createElement("canvas");
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        c.getContext("2d").drawImage(img, 0, 0);
        img.dataset.copy = c.toDataURL("image/png");
        return img.dataset.copy;
      } catch (e) {
        return img.src;
      }
    }

    var shown = false;
    var viewer = new window.Viewer(root, {
      filter: function (img) { return !!img.closest("figure.doc[data-viewer]"); },
      url: copyOf,
      title: [1, function (img) { return img.alt; }],
      navbar: false, // its thumbnails would fetch every document again: an audited view each
      transition: false,
      toolbar: {
        zoomIn: 1, zoomOut: 1, oneToOne: 1, reset: 1, prev: 1, play: 0, next: 1,
        rotateLeft: 1, rotateRight: 1, flipHorizontal: 1, flipVertical: 1,
        fullscreen: { show: 1, size: "large", click: function () { fullscreen(); } },
      },
      shown: function () {
        shown = true;
        var box = viewer.viewer;
        if (box && !box.querySelector(".viewer-watermark")) {
          var mark = document.createElement("div");
          mark.className = "viewer-watermark";
          mark.setAttribute("aria-hidden", "true");
          box.appendChild(mark);
          tick();
        }
      },
      hidden: function () {
        shown = false;
        if (document.fullscreenElement && document.exitFullscreen) document.exitFullscreen();
        var a = figures[viewer.index] && figures[viewer.index].querySelector("a.doc-frame");
        if (a) a.focus({ preventScroll: true });
      },
    });

    function fullscreen() {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () {});
      }
    }

    // A plain click or Enter on an image opens the viewer; with a modifier the link still
    // opens the image in a new tab.
    figures.forEach(function (fig, i) {
      var a = fig.querySelector("a.doc-frame");
      a.addEventListener("click", function (ev) {
        if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
        ev.preventDefault();
        if (ev.target.tagName !== "IMG") viewer.view(i); // a click on the image itself: viewerjs opens it
      });
      var open = document.createElement("button");
      open.type = "button";
      open.className = "secondary viewer-open-button";
      open.textContent = "Open viewer";
      open.setAttribute("data-act", "open");
      open.addEventListener("click", function () { viewer.view(i); });
      fig.querySelector("figcaption").appendChild(open);
    });

    document.addEventListener("keydown", function (ev) {
      if (!shown || ev.ctrlKey || ev.altKey || ev.metaKey) return;
      var handled = true;
      switch (ev.key) {
        case "+": case "=": viewer.zoom(0.1, true); break;
        case "-": case "_": viewer.zoom(-0.1, true); break;
        case "r": viewer.rotate(90); break;
        case "R": viewer.rotate(-90); break;
        case "0": viewer.reset(); break;
        case "1": viewer.zoomTo(1); break;
        case "f": case "F": fullscreen(); break;
        default: handled = false;
      }
      if (handled) { ev.preventDefault(); ev.stopPropagation(); }
    }, true);

    // The watermark tells the time it is now, not when the page was loaded.
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function tick() {
      var d = new Date();
      var when = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
        pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
      var email = "";
      document.querySelectorAll("#documents .watermark").forEach(function (w) {
        email = w.getAttribute("data-email") || email;
        w.textContent = w.getAttribute("data-email") + " · " + when;
      });
      document.querySelectorAll(".viewer-watermark").forEach(function (w) {
        w.textContent = email + " · " + when;
      });
    }
    tick();
    setInterval(tick, 30000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
