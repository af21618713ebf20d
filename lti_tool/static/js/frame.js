// Inside an LMS frame, ask the platform to fit the frame to the page (the `lti.frameResize`
// message that Canvas, Moodle and others honour); platforms that do not simply ignore it.
(function () {
  if (window.parent === window) { return; }
  var last = 0;
  function send() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) { return; }
    last = height;
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }
  window.addEventListener("load", send);
  window.addEventListener("resize", send);
  document.addEventListener("toggle", send, true);  // <details> opened or closed
  if (window.ResizeObserver) { new ResizeObserver(send).observe(document.body); }
  send();
})();
