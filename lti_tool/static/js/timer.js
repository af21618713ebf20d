// Countdown of a timed challenge. The server decides (it records a late answer as timed
// out); this only shows the time left and submits the form when it runs out.
(function () {
  var form = document.querySelector("form[data-deadline]");
  if (!form) { return; }
  var deadline = parseInt(form.dataset.deadline, 10);
  var display = form.querySelector("[data-timer-display]");
  // The label comes translated from the page: "Temps restant : {seconds} s".
  var label = display.dataset.timerLabel || "{seconds} s";
  var announced = {};
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    display.textContent = label.replace("{seconds}", String(left));
    if ((left === 30 || left === 10) && !announced[left]) {
      announced[left] = true;
      display.parentNode.setAttribute("aria-live", "polite");
    }
    if (left <= 0) {
      form.submit();
      return;
    }
    window.setTimeout(tick, 500);
  }
  tick();
})();
