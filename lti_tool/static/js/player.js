// Progressive enhancements of the player; every page works without them.
(function () {
  // One submission per form: a double click must not send the answer twice (the server
  // refuses duplicates anyway; this only spares a useless round trip).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      var clicked = event.submitter;
      if (clicked && clicked.name) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = clicked.name; keep.value = clicked.value;
        form.appendChild(keep);
      }
      form.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    });
  });
})();
