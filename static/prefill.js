// Pre-fill the one-page questionnaire from the URL fragment, e.g. the link on a CDS Hooks card:
//   /questionnaire#primary_cancer=breast&calcium=high&pain_score=6
// A browser never sends the fragment to the server, so these answers reach no server log. After
// ticking them, the fragment is removed from the address bar and the history entry. Without
// JavaScript the form simply starts empty.
(function () {
  "use strict";
  var hash = window.location.hash.slice(1);
  if (!hash || hash.indexOf("=") < 0) return;
  var form = document.querySelector("form.questionnaire");
  if (!form) return;
  var params = new URLSearchParams(hash);
  params.forEach(function (value, name) {
    var inputs = form.querySelectorAll("input[name]");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.name !== name) continue;
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.value === value) el.checked = true;
      } else if (el.type === "text") {
        el.value = value;
      }
    }
  });
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
})();
