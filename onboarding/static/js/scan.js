// Camera scanning on the verify page: frames go through the vendored jsQR; the decoded
// text is posted like a pasted code (channel=camera). Nothing leaves the page otherwise.
(function () {
  "use strict";
  var start = document.getElementById("scan-start");
  var box = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var canvas = document.getElementById("scan-canvas");
  var status = document.getElementById("scan-status");
  var form = document.getElementById("verify-form");
  if (!start || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    if (start) { start.hidden = true; }
    return;
  }
  var stream = null;
  function stop() { if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); } }
  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        stop();
        document.getElementById("qr").value = code.data;
        document.getElementById("channel").value = "camera";
        status.textContent = "✔";
        HTMLFormElement.prototype.submit.call(form);  // form.submit is the button named "submit"
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }
  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s; video.srcObject = s; box.hidden = false; start.hidden = true;
        window.requestAnimationFrame(tick);
      })
      .catch(function () {
        status.textContent = status.dataset.unavailable || "Camera not available";
        box.hidden = false;
      });
  });
})();
