// Quick exit (GOV.UK "Exit this page"): leave at once with location.replace so the Back
// button does not return here; also on pressing Escape three times.
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) { return; }
  var target = link.getAttribute("data-exit-to");
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.body.innerHTML = "";
    window.location.replace(target);
  }
  link.addEventListener("click", leave);
  var presses = 0, timer = null;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    presses += 1;
    clearTimeout(timer);
    timer = setTimeout(function () { presses = 0; }, 1000);
    if (presses >= 3) { leave(); }
  });
})();
