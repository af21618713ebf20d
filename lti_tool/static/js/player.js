// Progressive enhancements of the player; every page works without them (the server
// refuses a blank answer and counts a late one as timed out by itself).
(function () {
  var answerForm = document.querySelector("form.challenge");

  // A blank « Valider » is refused on the page, as the server would refuse it.
  function isBlank(form) {
    var fields = form.querySelectorAll("input[name^='answer'], select[name^='answer']");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) { return false; }
      } else if (field.value.trim() !== "") {
        return false;
      }
    }
    return true;
  }

  function showBlankError(form) {
    var error = document.getElementById("answer-error");
    error.textContent = form.dataset.emptyMessage;
    error.hidden = false;
    var first = form.querySelector("input[name^='answer'], select[name^='answer']");
    if (first) { first.focus(); }
  }

  // One submission per form: a double click must not send the answer twice (the server
  // refuses duplicates anyway; this only spares a useless round trip).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var clicked = event.submitter;
      if (form === answerForm && clicked && clicked.value === "validate" && isBlank(form)) {
        event.preventDefault();
        showBlankError(form);
        return;
      }
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      if (clicked && clicked.name) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = clicked.name; keep.value = clicked.value;
        form.appendChild(keep);
      }
      form.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    });
  });
})();
