// Keyboard shortcuts of the issue list (a file, not inline: the pages' CSP runs no inline script).
// "/" focuses the search, j/k move between issues, x selects the current one, o or Enter opens it,
// r resolves and i ignores the selected issues (the current one when none is selected), a goes to
// the assignee picker. Keys typed into a field are left alone.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.issue-row"));
  var form = document.getElementById("bulk-form");
  var current = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function move(to) {
    if (!rows.length) return;
    if (current >= 0) {
      rows[current].classList.remove("current");
      rows[current].removeAttribute("aria-current");
    }
    current = Math.max(0, Math.min(rows.length - 1, to));
    rows[current].classList.add("current");
    rows[current].setAttribute("aria-current", "true");
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function box(row) {
    return row.querySelector('input[name="issue"]');
  }

  function act(key) {
    var button = form && form.querySelector('button[data-key="' + key + '"]');
    if (!button) return;
    var all = document.getElementById("select-all-matching");
    var chosen = rows.some(function (row) { return box(row).checked; });
    if (!chosen && !(all && all.checked)) {
      if (current < 0) return;
      box(rows[current]).checked = true;
    }
    form.requestSubmit(button);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (key === "/") {
      event.preventDefault();
      var search = document.getElementById("search");
      search.focus();
      search.select();
    } else if (key === "j") {
      move(current + 1);
    } else if (key === "k") {
      move(current < 0 ? 0 : current - 1);
    } else if (key === "x" && current >= 0) {
      var input = box(rows[current]);
      input.checked = !input.checked;
    } else if ((key === "o" || key === "Enter") && current >= 0) {
      window.location.href = rows[current].getAttribute("data-href");
    } else if (key === "r" || key === "i") {
      act(key);
    } else if (key === "a") {
      event.preventDefault();
      if (current >= 0 && !rows.some(function (row) { return box(row).checked; })) {
        box(rows[current]).checked = true;
      }
      document.getElementById("assignee").focus();
    }
  });

  // The sort, time range, environment and project pickers apply as soon as they change, as in
  // Sentry; the search text still waits for Enter or the Search button.
  var search = document.getElementById("search-form");
  if (search) {
    Array.prototype.forEach.call(search.querySelectorAll("select"), function (select) {
      select.addEventListener("change", function () {
        if (select.name === "statsPeriod") {  // a period replaces a custom range
          Array.prototype.forEach.call(search.querySelectorAll("input[name=start],input[name=end]"),
            function (input) { input.value = ""; });
        }
        search.submit();
      });
    });
  }
})();
