// Countdown of a timed challenge. The server decides (it records a late answer as timed
// out); this shows the time left and, when it runs out, sends the form saying so. The
// countdown runs from the page's load with the time the server says is left, so a device
// whose clock is wrong still counts the right time.
(function () {
  var form = document.querySelector("form[data-remaining]");
  if (!form) { return; }
  var end = performance.now() + parseInt(form.dataset.remaining, 10);
  var display = form.querySelector("[data-timer-display]");
  // The label comes translated from the page: "Temps restant : {seconds} s".
  var label = display.dataset.timerLabel || "{seconds} s";
  var announced = {};
  function tick() {
    var left = Math.max(0, Math.round((end - performance.now()) / 1000));
    display.textContent = label.replace("{seconds}", String(left));
    if ((left === 30 || left === 10) && !announced[left]) {
      announced[left] = true;
      display.parentNode.setAttribute("aria-live", "polite");
    }
    if (left <= 0) {
      var marker = document.createElement("input");
      marker.type = "hidden"; marker.name = "action"; marker.value = "timeout";
      form.appendChild(marker);
      form.submit();
      return;
    }
    window.setTimeout(tick, 500);
  }
  tick();
})();
