import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /assets/console.js`: the console's only script, a progressive enhancement. Pages work without it; with it,
/// a `<button data-copy="ID" hidden>` (hidden until the script runs, so nobody sees a button that does nothing)
/// copies the text of the element `ID` — a one-time key, a redirect URI — and says so in its label. A page that
/// loads it allows our own scripts in its policy (`ContentSecurityPolicy.ownScripts`); nothing runs inline.
enum ConsoleScript {
    static let path = "/assets/console.js"

    static let source = """
        (function () {
          "use strict";
          function copied(button, text) {
            var label = button.textContent;
            button.textContent = text;
            button.setAttribute("aria-live", "polite");
            setTimeout(function () { button.textContent = label; }, 2000);
          }
          Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
            var source = document.getElementById(button.getAttribute("data-copy"));
            if (!source || !navigator.clipboard) { return; }
            button.hidden = false;
            button.addEventListener("click", function () {
              navigator.clipboard.writeText(source.textContent.trim()).then(
                function () { copied(button, "Copied"); },
                function () { copied(button, "Select the text and copy it"); }
              );
            });
          });
        })();
        """

    static func addRoutes(to router: Router<AppRequestContext>) {
        router.get("assets/console.js") { _, _ in response(source) }
    }

    /// A script of ours as a response: JavaScript, cacheable for five minutes, never sniffed as anything else.
    static func response(_ script: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/javascript; charset=utf-8"
        headers[.cacheControl] = "public, max-age=300"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: script)))
    }
}
