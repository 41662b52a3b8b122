import Hummingbird

/// `GET /assets/passkeys.js`: the WebAuthn ceremonies of the sign-in page and of Settings → Passkeys. Browsers offer
/// passkeys only to JavaScript, so these pages need it: the script shows their passkey buttons (hidden until then, the
/// page saying what to do without them), asks the server for options, lets the browser talk to the authenticator,
/// posts the answer (URL-safe base64) with the page's CSRF token, and goes on to the page the server names. Errors —
/// the person cancelled, an unknown passkey — show in plain words in the page's `role="alert"` box.
enum PasskeysScript {
    static let path = "/assets/passkeys.js"

    static let source = """
        (function () {
          "use strict";
          function decode(text) {
            var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
            while (base64.length % 4) { base64 += "="; }
            var raw = atob(base64), bytes = new Uint8Array(raw.length);
            for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
            return bytes.buffer;
          }
          function encode(buffer) {
            var bytes = new Uint8Array(buffer), raw = "";
            for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
            return btoa(raw).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
          }
          function value(scope, name) {
            var input = scope.querySelector('input[name="' + name + '"]');
            return input ? input.value : "";
          }
          function post(url, fields) {
            var body = new URLSearchParams();
            Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
            return fetch(url, { method: "POST", body: body, credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } })
              .then(function (response) {
                if (response.type === "opaqueredirect") {
                  throw new Error("Sign in again with your password or single sign-on first, then try again.");
                }
                return response.json().then(function (json) {
                  if (!response.ok) { throw new Error(json.error || json.message || "The server refused the passkey. Try again."); }
                  return json;
                }, function () {
                  throw new Error("The page is out of date. Reload it and try again.");
                });
              });
          }
          function explain(error) {
            switch (error && error.name) {
              case "NotAllowedError": return "No passkey was used: the request was cancelled or timed out. Try again when you are ready.";
              case "InvalidStateError": return "This device already holds a passkey for your account here.";
              case "SecurityError": return "Passkeys do not work at this address. Open the server at its https address (or at localhost).";
              case "NotSupportedError": return "This device cannot create the kind of passkey this server needs.";
              case "AbortError": return "The passkey request was stopped. Try again.";
              case "TypeError": return "The server could not be reached. Check your connection and try again.";
              default: return (error && error.message) || "Something went wrong with the passkey. Try again.";
            }
          }
          function fail(box, error) {
            box.textContent = explain(error);
            box.hidden = false;
          }
          var box = document.getElementById("passkey-error");
          var unavailable = document.getElementById("passkey-unavailable");
          var add = document.getElementById("passkey-add");
          var signIn = document.getElementById("passkey-sign-in");
          if (!box || (!add && !signIn)) { return; }
          if (!window.PublicKeyCredential || !navigator.credentials) {
            if (unavailable) {
              unavailable.textContent = window.isSecureContext
                ? "This browser cannot use passkeys. Use another browser, or sign in another way."
                : "Passkeys need a secure connection: open this server at its https address.";
            }
            return;
          }
          if (unavailable) { unavailable.hidden = true; }
          if (add) {
            add.hidden = false;
            add.addEventListener("submit", function (event) {
              event.preventDefault();
              box.hidden = true;
              var csrf = value(add, "csrf_token"), name = value(add, "name");
              post(add.getAttribute("data-options"), { csrf_token: csrf })
                .then(function (options) {
                  options.challenge = decode(options.challenge);
                  options.user.id = decode(options.user.id);
                  options.excludeCredentials.forEach(function (credential) { credential.id = decode(credential.id); });
                  return navigator.credentials.create({ publicKey: options });
                })
                .then(function (credential) {
                  return post(add.getAttribute("action"), {
                    csrf_token: csrf,
                    name: name,
                    clientDataJSON: encode(credential.response.clientDataJSON),
                    attestationObject: encode(credential.response.attestationObject)
                  });
                })
                .then(function (result) { window.location.assign(result.location); })
                .catch(function (error) { fail(box, error); });
            });
          }
          if (signIn) {
            var form = document.querySelector('form[action="/login"]') || document;
            document.getElementById("passkey-sign-in-box").hidden = false;
            signIn.addEventListener("click", function () {
              box.hidden = true;
              var fields = { csrf_token: value(form, "csrf_token"), tenant: value(form, "tenant"), next: value(form, "next") };
              post(signIn.getAttribute("data-options"), fields)
                .then(function (options) {
                  options.challenge = decode(options.challenge);
                  options.allowCredentials.forEach(function (credential) { credential.id = decode(credential.id); });
                  return navigator.credentials.get({ publicKey: options });
                })
                .then(function (credential) {
                  var response = credential.response;
                  return post(signIn.getAttribute("data-action"), {
                    csrf_token: fields.csrf_token,
                    tenant: fields.tenant,
                    next: fields.next,
                    credentialId: encode(credential.rawId),
                    clientDataJSON: encode(response.clientDataJSON),
                    authenticatorData: encode(response.authenticatorData),
                    signature: encode(response.signature),
                    userHandle: response.userHandle ? encode(response.userHandle) : ""
                  });
                })
                .then(function (result) { window.location.assign(result.location); })
                .catch(function (error) { fail(box, error); });
            });
          }
        })();
        """

    static func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("assets/passkeys.js") { _, _ in ConsoleScript.response(source) }
    }
}
