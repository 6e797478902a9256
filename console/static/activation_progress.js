// Live progress while an activation runs: poll its job, show each server's state, reload at the end.
(function () {
  var box = document.getElementById("activation");
  if (!box || ["queued", "running"].indexOf(box.dataset.status) < 0) return;
  var timer = setInterval(function () {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      document.getElementById("activation-status").textContent = d.status;
      Object.keys(d.progress).forEach(function (url) {
        var cell = box.querySelector('td[data-url="' + url + '"]');
        if (cell) cell.textContent = d.progress[url];
      });
      if (d.status !== "queued" && d.status !== "running") { clearInterval(timer); location.reload(); }
    });
  }, 1000);
})();
