// The mock CIS2's one script: runs the WebAuthn ceremony its sign-in page asks for, when the
// tester presses the button, and posts the browser's answer (or its error) back to the mock,
// which checks everything. Served as a file so the page's Content-Security-Policy allows this
// script alone; the page works without it through the click-through.
"use strict";

(function () {
  const button = document.getElementById("webauthn-start");
  const form = document.getElementById("webauthn-form");
  const status = document.getElementById("webauthn-status");
  if (!button || !form) {
    return;
  }

  function fromBase64Url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64Url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (descriptor) {
      return Object.assign({}, descriptor, { id: fromBase64Url(descriptor.id) });
    });
  }

  // PublicKeyCredentialCreationOptionsJSON and PublicKeyCredentialRequestOptionsJSON (WebAuthn
  // Level 3 §5.4, §5.5) to the options the browser takes, by hand so older browsers work too.
  function creationOptions(json) {
    const options = Object.assign({}, json);
    options.challenge = fromBase64Url(json.challenge);
    options.user = Object.assign({}, json.user, { id: fromBase64Url(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    const options = Object.assign({}, json);
    options.challenge = fromBase64Url(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  // RegistrationResponseJSON and AuthenticationResponseJSON (§5.1).
  function credentialJson(credential) {
    const response = credential.response;
    const answer = {
      clientDataJSON: toBase64Url(response.clientDataJSON),
    };
    if (response.attestationObject) {
      answer.attestationObject = toBase64Url(response.attestationObject);
      answer.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.authenticatorData = toBase64Url(response.authenticatorData);
      answer.signature = toBase64Url(response.signature);
      if (response.userHandle) {
        answer.userHandle = toBase64Url(response.userHandle);
      }
    }
    return {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: answer,
    };
  }

  button.addEventListener("click", async function () {
    button.disabled = true;
    status.textContent = "Waiting for your authenticator…";
    try {
      if (!window.PublicKeyCredential) {
        throw new DOMException("this browser has no WebAuthn", "NotSupportedError");
      }
      const options = JSON.parse(button.dataset.options);
      const credential =
        button.dataset.ceremony === "create"
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
      form.elements.credential.value = JSON.stringify(credentialJson(credential));
    } catch (error) {
      const name = error && error.name ? error.name : "Error";
      const message = error && error.message ? error.message : String(error);
      form.elements.webauthn_error.value = name + ": " + message;
    }
    status.textContent = "Checking…";
    form.submit();
  });
})();
