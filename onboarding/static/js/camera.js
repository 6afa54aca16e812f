// Photo capture with the device camera. The still goes into the form's file input, so the
// server receives and re-encodes it exactly like an uploaded file (one code path).
(function () {
  "use strict";
  var start = document.getElementById("camera-start");
  var box = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var capture = document.getElementById("camera-capture");
  var input = document.getElementById("photo");
  if (!start || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    if (start) { start.hidden = true; }
    return;
  }
  var stream = null;
  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
      .then(function (s) { stream = s; video.srcObject = s; box.hidden = false; start.hidden = true; })
      .catch(function () { start.textContent = start.textContent + " ✕"; });
  });
  capture.addEventListener("click", function () {
    canvas.width = video.videoWidth || 640;
    canvas.height = video.videoHeight || 480;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      var dt = new DataTransfer();
      dt.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
      input.files = dt.files;
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      HTMLFormElement.prototype.submit.call(document.getElementById("photo-form"));
    }, "image/jpeg", 0.92);
  });
})();
