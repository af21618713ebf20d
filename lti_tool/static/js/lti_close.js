// Dynamic registration is complete: tell the platform, which closes its registration dialog.
(window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
