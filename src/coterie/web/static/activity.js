// The mention picker: a click on a person inserts @[Name](id) into the comment at the caret.
(function () {
  if (window.coterieActivity) return;
  window.coterieActivity = true;
  document.addEventListener("click", function (event) {
    var option = event.target.closest ? event.target.closest("[data-mention]") : null;
    if (!option) return;
    var form = option.closest("form");
    var box = form ? form.querySelector("textarea[name=body]") : null;
    if (!box) return;
    var text = option.getAttribute("data-mention") + " ";
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    if (before && !/\s$/.test(before)) text = " " + text;
    box.value = before + text + box.value.slice(end);
    var caret = before.length + text.length;
    box.focus();
    box.setSelectionRange(caret, caret);
    var options = form.querySelector(".mention-options");
    if (options) options.innerHTML = "";
  });
})();
