// Submits forms marked data-autosubmit (deep-linking response). Without JavaScript the
// visible button does the same.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });
