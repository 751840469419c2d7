// Passkeys (WebAuthn). A form with data-passkey="create" or "get" gets its
// options from data-options (POST, with the form's CSRF token), asks the
// browser (navigator.credentials), puts the answer in the form's hidden
// `ceremony` and `credential` fields and posts the form. The server checks
// everything; this only moves bytes between the server and the authenticator.
(function () {
  "use strict";

  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    (list || []).forEach(function (c) { c.id = toBytes(c.id); });
  }

  function extensions(cred) {
    return cred.getClientExtensionResults ? cred.getClientExtensionResults() : {};
  }

  function create(pk) {
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    withIds(pk.excludeCredentials);
    return navigator.credentials.create({ publicKey: pk }).then(function (c) {
      return {
        id: c.id,
        rawId: toText(c.rawId),
        type: c.type,
        response: {
          attestationObject: toText(c.response.attestationObject),
          clientDataJSON: toText(c.response.clientDataJSON)
        },
        extensions: extensions(c)
      };
    });
  }

  function get(pk) {
    pk.challenge = toBytes(pk.challenge);
    withIds(pk.allowCredentials);
    return navigator.credentials.get({ publicKey: pk }).then(function (c) {
      return {
        id: c.id,
        rawId: toText(c.rawId),
        type: c.type,
        response: {
          authenticatorData: toText(c.response.authenticatorData),
          clientDataJSON: toText(c.response.clientDataJSON),
          signature: toText(c.response.signature),
          userHandle: c.response.userHandle ? toText(c.response.userHandle) : null
        },
        extensions: extensions(c)
      };
    });
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) { status.textContent = text; status.hidden = !text; }
  }

  function run(form) {
    var button = form.querySelector("button");
    button.disabled = true;
    say(form, "");
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    fetch(form.getAttribute("data-options"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { throw new Error(j.message || "The passkey could not be started."); }
        return j;
      });
    }).then(function (o) {
      form.elements.ceremony.value = o.ceremony;
      return form.getAttribute("data-passkey") === "create" ? create(o.publicKey) : get(o.publicKey);
    }).then(function (answer) {
      form.elements.credential.value = JSON.stringify(answer);
      form.submit();
    }).catch(function (e) {
      button.disabled = false;
      if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) {
        say(form, "The passkey request was cancelled or timed out. Try again, or use another way.");
      } else if (e && e.name === "InvalidStateError") {
        say(form, "This passkey is already registered.");
      } else {
        say(form, (e && e.message) || "The passkey did not work. Try again, or use another way.");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) { return; }
    document.querySelectorAll("form[data-passkey]").forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        run(form);
      });
    });
  });
})();
