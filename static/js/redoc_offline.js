// Loaded before Redoc. Redoc's sidebar footer shows its maker's logo from a CDN; the API
// pages must work with no internet and the CSP refuses outside images anyway, so that one
// image gets an empty picture instead, however Redoc sets it (attribute or property).
(function () {
  "use strict";
  var CDN = "https://cdn.redoc.ly/";
  var EMPTY = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
  function local(value) {
    return String(value).indexOf(CDN) === 0 ? EMPTY : value;
  }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this.tagName === "IMG" && String(name).toLowerCase() === "src") { value = local(value); }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) { src.set.call(this, local(value)); }
  });
})();
