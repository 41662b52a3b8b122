/// `GET /connect.js`: an app's page loads it to open the hosted connect page in a popup and learn the outcome.
///
///     const result = await Latchkey.connect(connectUrl)  // {sessionId, status: "success" | "failed", error?}
///
/// The popup's finished page (on the Latchkey origin) loads the same script, which posts the outcome to the
/// opener once per allowed origin of the app: the browser delivers it only when the opener is on one of them. The
/// opener's side accepts messages only from the Latchkey origin and only from the popup it opened. Create the
/// session without `redirectUrl` for the popup (the page then finishes on Latchkey's origin); a session with one
/// sends the popup to the app's page instead.
enum ConnectScript {
    /// The script for a server whose public origin is `origin` (`scheme://host[:port]`, already validated).
    static func source(origin: String) -> String {
        let quoted = origin.unicodeScalars.allSatisfy { $0.isASCII && $0 != "\"" && $0 != "\\" && $0 != "<" } ? origin : ""
        return """
            (function () {
              "use strict";
              var LATCHKEY_ORIGIN = "\(quoted)";
              var result = document.getElementById("lk-result");
              if (result && window.opener && window.location.origin === LATCHKEY_ORIGIN) {
                var message = {
                  type: "latchkey:connect",
                  sessionId: result.getAttribute("data-session-id"),
                  status: result.getAttribute("data-status")
                };
                var error = result.getAttribute("data-error");
                if (error) { message.error = error; }
                (result.getAttribute("data-origins") || "").split(" ").forEach(function (origin) {
                  if (origin) { window.opener.postMessage(message, origin); }
                });
                return;
              }
              function connect(connectUrl, options) {
                return new Promise(function (resolve, reject) {
                  var url;
                  try { url = new URL(connectUrl, window.location.href); } catch (e) { reject(new Error("connectUrl is not a URL")); return; }
                  if (url.origin !== LATCHKEY_ORIGIN) { reject(new Error("connectUrl is not on " + LATCHKEY_ORIGIN)); return; }
                  var features = (options && options.features) || "popup,width=520,height=720";
                  var popup = window.open(url.href, "latchkey-connect", features);
                  if (!popup) { reject(new Error("The popup was blocked; open connectUrl in the page instead.")); return; }
                  var timer = null;
                  function finish(value) {
                    window.removeEventListener("message", onMessage);
                    if (timer) { clearInterval(timer); }
                    try { popup.close(); } catch (e) {}
                    resolve(value);
                  }
                  function onMessage(event) {
                    if (event.origin !== LATCHKEY_ORIGIN || event.source !== popup) { return; }
                    var data = event.data;
                    if (!data || data.type !== "latchkey:connect" || typeof data.status !== "string") { return; }
                    var value = { sessionId: String(data.sessionId), status: data.status };
                    if (data.error) { value.error = String(data.error); }
                    finish(value);
                  }
                  window.addEventListener("message", onMessage);
                  timer = setInterval(function () {
                    if (popup.closed) { finish({ sessionId: null, status: "failed", error: "window_closed" }); }
                  }, 500);
                });
              }
              window.Latchkey = { connect: connect };
            })();

            """
    }
}
