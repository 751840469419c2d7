// OAuth 2.0 Form Post Response Mode: submit the response to the application.
document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("portico-form-post");
  if (f) { f.submit(); }
});
