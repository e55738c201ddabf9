// Renders /openapi.json with the vendored Redoc bundle (no request leaves this server).
/* global Redoc */
Redoc.init('/openapi.json', {
  hideDownloadButton: false,
  expandResponses: '200',
  pathInMiddlePanel: true,
  disableSearch: false,
}, document.getElementById('redoc'));
