// Live progress while the version trains: poll the JSON endpoint, reload when it finishes.
(function () {
  var box = document.getElementById("progress");
  if (!box || ["queued", "training"].indexOf(box.dataset.status) < 0) return;
  var timer = setInterval(function () {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      document.getElementById("status").textContent = d.status;
      document.getElementById("percent").textContent = d.progress + "%";
      document.getElementById("bar").value = d.progress;
      var log = document.getElementById("log");
      log.textContent = d.log;
      log.scrollTop = log.scrollHeight;
      if (d.status !== "queued" && d.status !== "training") { clearInterval(timer); location.reload(); }
    });
  }, 1000);
})();
