// The tool editor: parameter builder (rows <-> JSON Schema, both ways), code editor with
// line numbers, repeated rows (add, remove, reorder, renumber), sliders, live checks.
// No inline scripts or styles anywhere: the CSP forbids them. Without this file the form
// still works: every value is a plain field, and the schemas are plain JSON textareas.
(function () {
  "use strict";

  var form = document.getElementById("tool-form");
  if (!form) { return; }
  var uid = 0;

  function nextId(stem) { uid += 1; return "pb-" + stem + "-" + uid; }
  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  function make(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function clone(value) { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); }
  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function showJsOnly(root) {
    all(root, "[data-js-only]").forEach(function (node) { node.hidden = false; });
  }

  // ---------------------------------------------------------------------------------
  // Parameter builder: one instance per schema textarea (inputs and result).
  // ---------------------------------------------------------------------------------

  var TYPES = [
    ["string", "Text"], ["integer", "Whole number"], ["number", "Number"],
    ["boolean", "Yes / no"], ["array", "List"], ["object", "Group of fields"],
    ["any", "Any value"], ["other", "Other (Advanced)"]
  ];
  var ITEM_TYPES = [
    ["string", "Text"], ["integer", "Whole number"], ["number", "Number"],
    ["boolean", "Yes / no"], ["object", "Group of fields"], ["any", "Any value"],
    ["other", "As in Advanced"]
  ];
  var SIMPLE = ["string", "integer", "number", "boolean"];
  // Keys the rows edit, by type; anything else in a property is kept as it was.
  var MANAGED = {
    common: ["type", "description", "default", "enum"],
    string: ["minLength", "maxLength"],
    integer: ["minimum", "maximum"],
    number: ["minimum", "maximum"],
    boolean: [],
    array: ["items", "minItems", "maxItems"],
    object: ["properties", "required"],
    any: []
  };
  // Kept when the type of a row changes; other unknown keys belong to the old type.
  var KEEP_ON_TYPE_CHANGE = ["title", "examples", "deprecated", "readOnly", "writeOnly", "$comment"];
  var LIMIT_LABELS = {
    string: ["Shortest length", "Longest length"],
    integer: ["Smallest", "Largest"],
    number: ["Smallest", "Largest"],
    array: ["Fewest items", "Most items"]
  };

  function typeOf(prop) {
    if (!prop || typeof prop !== "object" || Array.isArray(prop)) { return "other"; }
    var t = prop.type;
    if (typeof t === "string" && MANAGED[t]) { return t; }
    if (t === undefined) {
      var keys = Object.keys(prop).filter(function (k) {
        return ["description", "default", "title", "examples"].indexOf(k) < 0;
      });
      return keys.length ? "other" : "any";
    }
    return "other";
  }

  function itemTypeOf(items) {
    if (items === undefined) { return "any"; }
    var t = typeOf(items);
    if (t === "array") { return "other"; }
    return t;
  }

  function extraOf(prop, type) {
    var extra = {};
    if (type === "other") {
      Object.keys(prop || {}).forEach(function (k) { if (k !== "description") { extra[k] = prop[k]; } });
      return extra;
    }
    var managed = MANAGED.common.concat(MANAGED[type] || []);
    Object.keys(prop).forEach(function (k) { if (managed.indexOf(k) < 0) { extra[k] = clone(prop[k]); } });
    return extra;
  }

  function isNumeric(text) { return text.trim() !== "" && isFinite(Number(text)); }

  function parseScalar(text, type) {
    var t = text.trim();
    if (type === "integer") { return /^-?\d+$/.test(t) ? Number(t) : text; }
    if (type === "number") { return isNumeric(t) ? Number(t) : text; }
    if (type === "boolean") { return t === "true" ? true : t === "false" ? false : text; }
    if (type === "string") { return text; }
    try { return JSON.parse(t); } catch (e) { return text; }
  }

  function showScalar(value, type) {
    if (value === undefined || value === null) { return ""; }
    if (type === "string" && typeof value === "string") { return value; }
    if (typeof value === "number" || typeof value === "boolean") { return String(value); }
    return JSON.stringify(value);
  }

  function splitList(text) {
    return text.split(",").map(function (s) { return s.trim(); }).filter(function (s) { return s !== ""; });
  }

  function simpleList(values) {
    return Array.isArray(values) && values.every(function (v) {
      return (typeof v === "number" || typeof v === "boolean" ||
        (typeof v === "string" && v.indexOf(",") < 0 && v.trim() === v && v !== ""));
    });
  }

  function SchemaBuilder(root) {
    this.root = root;
    this.kind = root.getAttribute("data-schema-editor");
    this.textarea = root.querySelector("textarea");
    this.list = root.querySelector("[data-params]");
    this.empty = root.querySelector("[data-params-empty]");
    this.status = root.querySelector("[data-json-status]");
    this.strict = root.querySelector("[data-strict]");
    this.check = root.querySelector(".schema-check");
    this.serverErrors = root.querySelector("[data-schema-errors]");
    this.top = {};
    var self = this;

    showJsOnly(root);
    root.querySelector("[data-panel=rows]").hidden = false;
    all(root, "[data-tab]").forEach(function (tab) {
      tab.addEventListener("click", function () { self.showTab(tab.getAttribute("data-tab")); });
    });
    root.querySelector("[data-add-param]").addEventListener("click", function () {
      var row = self.addRow(self.list, "", { type: "string" }, false);
      self.changed();
      row.querySelector(".p-name").focus();
    });
    if (this.strict) {
      this.strict.addEventListener("change", function () { self.changed(); });
    }
    var panel = root.querySelector("[data-panel=rows]");
    panel.addEventListener("input", function (event) {
      if (event.target.closest("[data-param]")) { self.changed(); }
    });
    panel.addEventListener("change", function (event) {
      if (event.target.classList.contains("p-type") || event.target.classList.contains("p-items")) {
        self.retype(event.target.closest("[data-param]"), event.target);
      }
      if (event.target.closest("[data-param]")) { self.changed(); }
    });
    panel.addEventListener("click", function (event) { self.onClick(event); });
    this.textarea.addEventListener("input", function () { self.fromText(false); });

    this.showTab(this.fromText(true) ? "rows" : "json");
    this.placeErrors(this.serverErrors);
  }

  SchemaBuilder.prototype.showTab = function (name) {
    all(this.root, "[data-tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.getAttribute("data-tab") === name ? "true" : "false");
    });
    all(this.root, "[data-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-panel") !== name;
    });
  };

  // The textarea's JSON -> rows. Returns false when it does not parse.
  SchemaBuilder.prototype.fromText = function (initial) {
    var text = this.textarea.value.trim();
    var schema;
    try {
      schema = text ? JSON.parse(text) : { type: "object", properties: {} };
    } catch (e) {
      this.say("This is not valid JSON yet (" + e.message + "). The rows keep the last version that was.", true);
      return false;
    }
    if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
      this.say("The schema must be a JSON object, between { and }. The rows keep the last version that was.", true);
      return false;
    }
    this.top = {};
    var self = this;
    Object.keys(schema).forEach(function (k) {
      if (k !== "properties" && k !== "required") { self.top[k] = schema[k]; }
    });
    if (this.strict) { this.strict.checked = schema.additionalProperties === false; }
    this.list.textContent = "";
    this.fillRows(this.list, schema.properties || {}, schema.required || []);
    this.updateEmpty();
    if (!initial) {
      this.say(schema.type === "object" ? "The rows follow this schema." : "The inputs must be described as type \"object\".", schema.type !== "object");
    }
    return true;
  };

  SchemaBuilder.prototype.say = function (text, isError) {
    this.status.textContent = text;
    this.status.className = "json-status " + (isError ? "is-error" : "is-ok");
  };

  SchemaBuilder.prototype.fillRows = function (list, properties, required) {
    var self = this;
    Object.keys(properties).forEach(function (name) {
      self.addRow(list, name, properties[name], required.indexOf(name) >= 0);
    });
  };

  SchemaBuilder.prototype.updateEmpty = function () {
    this.empty.hidden = this.list.children.length > 0;
  };

  function field(labelText, input, className) {
    var id = nextId("f");
    input.id = id;
    return make("div", { className: className }, [make("label", { "for": id, text: labelText }), input]);
  }

  function options(select, choices, selected) {
    choices.forEach(function (choice) {
      var option = make("option", { value: choice[0], text: choice[1] });
      if (choice[0] === selected) { option.selected = true; }
      select.appendChild(option);
    });
  }

  SchemaBuilder.prototype.addRow = function (list, name, prop, required) {
    prop = prop && typeof prop === "object" ? prop : {};
    var type = typeOf(prop);
    var row = make("div", { className: "param", "data-param": "" });
    row._extra = extraOf(prop, type);
    row._itemExtra = {};

    var nameInput = make("input", { type: "text", className: "p-name mono", placeholder: this.kind === "input" ? "name" : "field", "aria-label": "Name", autocomplete: "off", spellcheck: "false" });
    nameInput.value = name;
    var typeSelect = make("select", { className: "p-type", "aria-label": "Type" });
    options(typeSelect, TYPES.filter(function (t) { return t[0] !== "other" || type === "other"; }), type);
    var requiredBox = make("input", { type: "checkbox", className: "p-required" });
    requiredBox.checked = required;
    var requiredLabel = make("label", { className: "checkbox-label" }, [requiredBox, document.createTextNode(this.kind === "input" ? " Required" : " Always there")]);
    var desc = make("input", { type: "text", className: "p-desc", placeholder: "What it means, in plain words", "aria-label": "Description" });
    desc.value = prop.description || "";
    var tools = make("div", { className: "param-tools" }, [
      make("button", { type: "button", className: "btn btn-small icon-btn", "data-param-move": "up", title: "Move up", "aria-label": "Move up", text: "↑" }),
      make("button", { type: "button", className: "btn btn-small icon-btn", "data-param-move": "down", title: "Move down", "aria-label": "Move down", text: "↓" }),
      make("button", { type: "button", className: "btn btn-small icon-btn btn-remove", "data-param-remove": "", title: "Remove", "aria-label": "Remove", text: "✕" })
    ]);
    row.appendChild(make("div", { className: "param-main" }, [nameInput, typeSelect, requiredLabel, desc, tools]));

    var defaultInput = make("input", { type: "text", className: "p-default", autocomplete: "off" });
    var defaultBool = make("select", { className: "p-default-bool" });
    options(defaultBool, [["", "(none)"], ["true", "Yes"], ["false", "No"]], "");
    var enumInput = make("input", { type: "text", className: "p-enum", placeholder: "a, b, c", autocomplete: "off" });
    var minInput = make("input", { type: "text", className: "p-min", inputmode: "decimal", autocomplete: "off" });
    var maxInput = make("input", { type: "text", className: "p-max", inputmode: "decimal", autocomplete: "off" });
    var itemSelect = make("select", { className: "p-items" });
    var note = make("p", { className: "muted small pm-note", text: "This one is described in the Advanced tab; only its name, whether it is required and its description are edited here." });
    var more = make("div", { className: "param-more" }, [
      field("Default", defaultInput, "pm-default"),
      field("Default", defaultBool, "pm-default-bool"),
      field("Allowed values", enumInput, "pm-enum"),
      field("Smallest", minInput, "pm-min"),
      field("Largest", maxInput, "pm-max"),
      field("Each item is", itemSelect, "pm-items")
    ]);
    row.appendChild(more);
    row.appendChild(note);
    row.appendChild(make("ul", { className: "field-errors row-errors" }));
    var childList = make("div", { className: "param-list" });
    var children = make("div", { className: "param-children" }, [
      make("div", { className: "caption" }),
      childList,
      make("button", { type: "button", className: "btn btn-small", "data-add-child": "", text: "+ Add a field inside" })
    ]);
    row.appendChild(children);
    list.appendChild(row);

    // Values of the managed keys.
    var itemType = type === "array" ? itemTypeOf(prop.items) : "string";
    options(itemSelect, ITEM_TYPES.filter(function (t) { return t[0] !== "other" || itemType === "other"; }), itemType);
    if (type === "array" && prop.items && typeof prop.items === "object") {
      row._itemExtra = extraOf(prop.items, itemType);
      if (itemType !== "other") { delete row._itemExtra.enum; }
    }
    if (type === "boolean") {
      defaultBool.value = prop["default"] === true ? "true" : prop["default"] === false ? "false" : "";
    } else if (prop["default"] !== undefined) {
      defaultInput.value = type === "array" && simpleList(prop["default"]) ? prop["default"].join(", ") : showScalar(prop["default"], type);
    }
    var enumValues = type === "array" ? (prop.items || {}).enum : prop.enum;
    if (Array.isArray(enumValues)) {
      enumInput.value = simpleList(enumValues) ? enumValues.join(", ") : JSON.stringify(enumValues);
    }
    var limits = { string: ["minLength", "maxLength"], integer: ["minimum", "maximum"], number: ["minimum", "maximum"], array: ["minItems", "maxItems"] }[type];
    if (limits) {
      minInput.value = showScalar(prop[limits[0]], "number");
      maxInput.value = showScalar(prop[limits[1]], "number");
    }
    if (type === "object") {
      this.fillRows(childList, prop.properties || {}, prop.required || []);
    } else if (type === "array" && itemType === "object") {
      this.fillRows(childList, prop.items.properties || {}, prop.items.required || []);
    }
    this.layout(row);
    return row;
  };

  // Show the boxes that make sense for the row's type.
  SchemaBuilder.prototype.layout = function (row) {
    var type = row.querySelector(".p-type").value;
    var itemType = row.querySelector(".p-items").value;
    function show(selector, visible) { row.querySelector(selector).hidden = !visible; }
    var other = type === "other";
    show(":scope > .param-more", !other);
    show(":scope > .pm-note", other);
    show(":scope > .param-more > .pm-default", !other && type !== "boolean");
    show(":scope > .param-more > .pm-default-bool", type === "boolean");
    show(":scope > .param-more > .pm-enum", SIMPLE.indexOf(type) >= 0 && type !== "boolean" || (type === "array" && SIMPLE.indexOf(itemType) >= 0 && itemType !== "boolean"));
    var limits = LIMIT_LABELS[type];
    show(":scope > .param-more > .pm-min", !!limits);
    show(":scope > .param-more > .pm-max", !!limits);
    if (limits) {
      row.querySelector(":scope > .param-more > .pm-min > label").textContent = limits[0];
      row.querySelector(":scope > .param-more > .pm-max > label").textContent = limits[1];
    }
    show(":scope > .param-more > .pm-items", type === "array");
    var hasChildren = type === "object" || (type === "array" && itemType === "object");
    show(":scope > .param-children", hasChildren);
    var caption = row.querySelector(":scope > .param-children > .caption");
    caption.textContent = type === "array" ? "Each item of the list has these fields:" : "Fields inside this group:";
    var defaultInput = row.querySelector(".p-default");
    defaultInput.placeholder = { string: "text used when left out", integer: "e.g. 10", number: "e.g. 2.5", array: "a, b, c", object: "{\"key\": \"value\"}", any: "a JSON value" }[type] || "";
  };

  SchemaBuilder.prototype.retype = function (row, select) {
    if (select.classList.contains("p-type")) {
      var keep = {};
      KEEP_ON_TYPE_CHANGE.forEach(function (k) { if (row._extra[k] !== undefined) { keep[k] = row._extra[k]; } });
      row._extra = keep;
      var otherOption = select.querySelector("option[value=other]");
      if (otherOption && select.value !== "other") { otherOption.remove(); }
    } else {
      row._itemExtra = {};
      var otherItem = select.querySelector("option[value=other]");
      if (otherItem && select.value !== "other") { otherItem.remove(); }
    }
    this.layout(row);
  };

  SchemaBuilder.prototype.onClick = function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    var row = button.closest("[data-param]");
    if (button.hasAttribute("data-param-remove")) {
      var name = row.querySelector(".p-name").value || "this row";
      var nested = row.querySelector(".param-children [data-param]");
      if (nested && !window.confirm("Remove " + name + " and the fields inside it?")) { return; }
      row.remove();
    } else if (button.hasAttribute("data-param-move")) {
      var up = button.getAttribute("data-param-move") === "up";
      var sibling = up ? row.previousElementSibling : row.nextElementSibling;
      if (!sibling) { return; }
      row.parentNode.insertBefore(row, up ? sibling : sibling.nextElementSibling);
      button.focus();
    } else if (button.hasAttribute("data-add-child")) {
      var child = this.addRow(row.querySelector(":scope > .param-children > .param-list"), "", { type: "string" }, false);
      child.querySelector(".p-name").focus();
    } else {
      return;
    }
    this.changed();
  };

  // Rows -> JSON Schema.
  SchemaBuilder.prototype.rowsToObject = function (list, into) {
    var properties = {};
    var required = [];
    var self = this;
    all(list, ":scope > [data-param]").forEach(function (row) {
      var name = row.querySelector(".p-name").value.trim();
      if (!name) { return; }
      properties[name] = self.rowToSchema(row);
      if (row.querySelector(".p-required").checked) { required.push(name); }
    });
    into.properties = properties;
    if (required.length) { into.required = required; } else { delete into.required; }
    return into;
  };

  SchemaBuilder.prototype.rowToSchema = function (row) {
    var type = row.querySelector(".p-type").value;
    var desc = row.querySelector(".p-desc").value.trim();
    var schema = {};
    if (type === "other") {
      schema = clone(row._extra);
      if (desc) { schema.description = desc; }
      return schema;
    }
    if (type !== "any") { schema.type = type; }
    if (desc) { schema.description = desc; }
    Object.keys(row._extra).forEach(function (k) { schema[k] = clone(row._extra[k]); });
    var defaultText = row.querySelector(".p-default").value;
    if (type === "boolean") {
      var b = row.querySelector(".p-default-bool").value;
      if (b) { schema["default"] = b === "true"; }
    } else if (defaultText.trim() !== "") {
      schema["default"] = this.parseDefault(defaultText, type, row.querySelector(".p-items").value);
    }
    var enumText = row.querySelector(".p-enum").value.trim();
    var enumType = type === "array" ? row.querySelector(".p-items").value : type;
    var enumValues = null;
    if (enumText && !row.querySelector(".pm-enum").hidden) {
      if (enumText.charAt(0) === "[") {
        try { enumValues = JSON.parse(enumText); } catch (e) { enumValues = splitList(enumText); }
      } else {
        enumValues = splitList(enumText).map(function (v) { return parseScalar(v, enumType); });
      }
    }
    var limits = { string: ["minLength", "maxLength"], integer: ["minimum", "maximum"], number: ["minimum", "maximum"], array: ["minItems", "maxItems"] }[type];
    if (limits) {
      var low = row.querySelector(".p-min").value.trim();
      var high = row.querySelector(".p-max").value.trim();
      if (low) { schema[limits[0]] = isNumeric(low) ? Number(low) : low; }
      if (high) { schema[limits[1]] = isNumeric(high) ? Number(high) : high; }
    }
    var childList = row.querySelector(":scope > .param-children > .param-list");
    if (type === "object") {
      this.rowsToObject(childList, schema);
    } else if (type === "array") {
      var itemType = row.querySelector(".p-items").value;
      var items = {};
      if (itemType === "other") {
        items = clone(row._itemExtra);
      } else {
        if (itemType !== "any") { items.type = itemType; }
        Object.keys(row._itemExtra).forEach(function (k) { items[k] = clone(row._itemExtra[k]); });
        if (itemType === "object") { this.rowsToObject(childList, items); }
      }
      if (enumValues) { items.enum = enumValues; }
      if (Object.keys(items).length) { schema.items = items; }
    }
    if (enumValues && type !== "array") { schema.enum = enumValues; }
    return schema;
  };

  SchemaBuilder.prototype.parseDefault = function (text, type, itemType) {
    if (type === "array") {
      if (text.trim().charAt(0) === "[") {
        try { return JSON.parse(text); } catch (e) { return text; }
      }
      return splitList(text).map(function (v) { return parseScalar(v, itemType); });
    }
    if (type === "object" || type === "any") {
      try { return JSON.parse(text); } catch (e) { return text; }
    }
    return parseScalar(text, type);
  };

  SchemaBuilder.prototype.toSchema = function () {
    var schema = clone(this.top) || {};
    if (!schema.type) { schema = Object.assign({ type: "object" }, schema); }
    this.rowsToObject(this.list, schema);
    if (this.strict) {
      if (this.strict.checked) { schema.additionalProperties = false; }
      else if (schema.additionalProperties === false) { delete schema.additionalProperties; }
    }
    return schema;
  };

  // Something in the rows changed: write the schema and let htmx check it.
  SchemaBuilder.prototype.changed = function () {
    var schema = this.toSchema();
    this.top = {};
    var self = this;
    Object.keys(schema).forEach(function (k) {
      if (k !== "properties" && k !== "required") { self.top[k] = schema[k]; }
    });
    this.textarea.value = JSON.stringify(schema, null, 2);
    this.updateEmpty();
    this.say("", false);
    this.textarea.dispatchEvent(new CustomEvent("schema-changed", { bubbles: true }));
  };

  // Put errors whose path names a row (properties.port.type) into that row.
  SchemaBuilder.prototype.findRow = function (path) {
    var parts = path.split(".");
    var list = this.list;
    var found = null;
    var i = 0;
    while (i < parts.length) {
      if (parts[i] === "items" && found && found.querySelector(".p-type").value === "array") { i += 1; continue; }
      if (parts[i] !== "properties" || i + 1 >= parts.length) { break; }
      var name = parts[i + 1];
      var match = all(list, ":scope > [data-param]").filter(function (row) {
        return row.querySelector(".p-name").value.trim() === name;
      })[0];
      if (!match) { break; }
      found = match;
      list = match.querySelector(":scope > .param-children > .param-list");
      i += 2;
    }
    return found;
  };

  SchemaBuilder.prototype.clearRowErrors = function () {
    all(this.list, ".row-errors").forEach(function (ul) { ul.textContent = ""; });
    all(this.list, ".param.has-error").forEach(function (row) { row.classList.remove("has-error"); });
  };

  SchemaBuilder.prototype.placeErrors = function (container) {
    if (!container) { return; }
    var self = this;
    all(container, "li[data-path]").forEach(function (item) {
      var row = self.findRow(item.getAttribute("data-path"));
      if (!row) { return; }
      row.querySelector(":scope > .row-errors").appendChild(item.cloneNode(true));
      row.classList.add("has-error");
      item.classList.add("is-placed");
    });
    if (container === this.serverErrors && !all(container, "li:not(.is-placed)").length) {
      container.hidden = true;
    }
  };

  // A live check replaced the errors: they are fresher than the ones from the last save.
  SchemaBuilder.prototype.liveChecked = function () {
    if (this.serverErrors) { this.serverErrors.hidden = true; }
    this.clearRowErrors();
    this.placeErrors(this.check);
  };

  SchemaBuilder.prototype.rowCount = function () {
    return all(this.list, ":scope > [data-param]").length;
  };

  // Replace the rows with an inferred schema, keeping descriptions the person wrote.
  SchemaBuilder.prototype.replaceWith = function (schema) {
    var old = this.toSchema().properties || {};
    Object.keys(schema.properties || {}).forEach(function (name) {
      var prop = schema.properties[name];
      if (!prop.description && old[name] && old[name].description) { prop.description = old[name].description; }
    });
    this.textarea.value = JSON.stringify(schema, null, 2);
    this.fromText(true);
    this.changed();
  };

  var builders = all(document, "[data-schema-editor]").map(function (root) { return new SchemaBuilder(root); });
  var inputBuilder = builders.filter(function (b) { return b.kind === "input"; })[0];

  // A schema that is not JSON yet is not sent for checking: the builder already says so.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    builders.forEach(function (builder) {
      if (source !== builder.textarea) { return; }
      try { JSON.parse(builder.textarea.value || "{}"); } catch (e) {
        event.preventDefault();
        builder.check.textContent = "";
      }
    });
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    builders.forEach(function (builder) { if (target === builder.check) { builder.liveChecked(); } });
    if (target && target.id === "script-check") { markErrorLine(); }
  });

  // ---------------------------------------------------------------------------------
  // Infer inputs from main()
  // ---------------------------------------------------------------------------------

  function inferStatus(text, isError) {
    all(document, "[data-infer-status]").forEach(function (node) {
      node.textContent = text;
      node.classList.toggle("expr-error", !!isError);
    });
  }

  function infer() {
    var script = form.querySelector("textarea[name=script]");
    var url = document.getElementById("infer-url").getAttribute("data-url");
    var body = new FormData();
    body.append("script", script.value);
    inferStatus("Reading main()…", false);
    fetch(url, { method: "POST", body: body, headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("the server answered " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (data.error) { inferStatus(data.error, true); return; }
        var found = Object.keys(data.schema.properties || {}).length;
        var have = inputBuilder.rowCount();
        if (have && !window.confirm("Replace the " + have + " input" + (have === 1 ? "" : "s") + " you have with the " + found + " found in " + data.signature + "?")) {
          inferStatus("Nothing was changed.", false);
          return;
        }
        inputBuilder.replaceWith(data.schema);
        inputBuilder.showTab("rows");
        var text = "Filled " + found + " input" + (found === 1 ? "" : "s") + " from " + data.signature + ".";
        inferStatus(text + (data.notes.length ? " " + data.notes.join(" ") : ""), false);
      })
      .catch(function (error) { inferStatus("Could not read the inputs: " + error.message, true); });
  }

  // ---------------------------------------------------------------------------------
  // Code editor: line numbers, Tab inserts four spaces (Esc then Tab leaves).
  // ---------------------------------------------------------------------------------

  var codeEditor = form.querySelector("[data-code-editor]");
  var codeArea = codeEditor ? codeEditor.querySelector("textarea") : null;
  var gutter = codeEditor ? codeEditor.querySelector(".gutter") : null;
  var lineCount = -1;
  var leaveOnTab = false;

  function renderGutter() {
    var count = codeArea.value.split("\n").length;
    if (count === lineCount) { return; }
    lineCount = count;
    gutter.textContent = "";
    for (var n = 1; n <= count; n += 1) {
      gutter.appendChild(make("span", { text: String(n) }));
      gutter.appendChild(document.createTextNode("\n"));
    }
    gutter.scrollTop = codeArea.scrollTop;
    markErrorLine();
  }

  function markErrorLine() {
    if (!gutter) { return; }
    all(gutter, ".error-line").forEach(function (span) { span.classList.remove("error-line"); });
    var flagged = document.querySelector("#script-check [data-error-line]");
    var line = flagged ? parseInt(flagged.getAttribute("data-error-line"), 10) : NaN;
    var span = line ? gutter.querySelectorAll("span")[line - 1] : null;
    if (span) { span.classList.add("error-line"); }
  }

  if (codeArea) {
    renderGutter();
    codeArea.addEventListener("input", renderGutter);
    codeArea.addEventListener("scroll", function () { gutter.scrollTop = codeArea.scrollTop; });
    codeArea.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { leaveOnTab = true; return; }
      if (event.key !== "Tab" || event.ctrlKey || event.altKey || event.metaKey) { leaveOnTab = false; return; }
      if (leaveOnTab) { leaveOnTab = false; return; }
      event.preventDefault();
      var start = codeArea.selectionStart;
      var end = codeArea.selectionEnd;
      var value = codeArea.value;
      var lineStart = value.lastIndexOf("\n", start - 1) + 1;
      if (event.shiftKey) {
        var removable = value.slice(lineStart, lineStart + 4).match(/^ {0,4}/)[0].length;
        codeArea.setRangeText("", lineStart, lineStart + removable, "preserve");
        codeArea.setSelectionRange(Math.max(lineStart, start - removable), Math.max(lineStart, end - removable));
      } else if (start !== end && value.slice(start, end).indexOf("\n") >= 0) {
        var block = value.slice(lineStart, end).replace(/^/gm, "    ");
        codeArea.setRangeText(block, lineStart, end, "select");
      } else {
        codeArea.setRangeText("    ", start, end, "end");
      }
      codeArea.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // ---------------------------------------------------------------------------------
  // Repeated rows: capabilities, patterns, variables, defaults, metadata, dependencies.
  // ---------------------------------------------------------------------------------

  function rewrite(root, pattern, replacement) {
    [root].concat(all(root, "*")).forEach(function (node) {
      Array.prototype.slice.call(node.attributes).forEach(function (attr) {
        var value = attr.value.replace(pattern, replacement);
        if (value !== attr.value) { node.setAttribute(attr.name, value); }
      });
    });
  }

  function childrenOf(container, selector) {
    return container ? all(container, ":scope > " + selector) : [];
  }

  // Give every row the index of its place, so the server reads them in page order.
  function renumber() {
    [["default", "defaults"], ["metadata", "meta"], ["dependency", "dep"]].forEach(function (pair) {
      var list = form.querySelector("[data-rows=" + pair[0] + "]");
      childrenOf(list, "[data-row]").forEach(function (row, i) {
        rewrite(row, new RegExp("(^|[^a-z])" + pair[1] + "-(\\d+|__i__)", "g"), "$1" + pair[1] + "-" + i);
      });
    });
    var caps = childrenOf(form.querySelector("[data-rows=capability]"), "[data-capability]");
    caps.forEach(function (cap, ci) {
      rewrite(cap, /(^|[^a-z])cap-(\d+|__c__)/g, "$1cap-" + ci);
      cap.querySelector(":scope > legend [data-number]").textContent = String(ci + 1);
      childrenOf(cap.querySelector("[data-rows=pattern]"), "[data-pattern]").forEach(function (pattern, pi) {
        rewrite(pattern, /(cap-\d+-pat-)(\d+|__p__)/g, "$1" + pi);
        pattern.querySelector(":scope > summary [data-number]").textContent = String(pi + 1);
        childrenOf(pattern.querySelector("[data-rows=var]"), "[data-row]").forEach(function (variable, vi) {
          rewrite(variable, /(-pat-\d+-var-)(\d+|__v__)/g, "$1" + vi);
        });
      });
    });
  }

  function addFromTemplate(kind, container) {
    var template = document.getElementById("tpl-" + kind);
    var fragment = template.content.cloneNode(true);
    var node = fragment.firstElementChild;
    container.appendChild(fragment);
    showJsOnly(node);
    setupSliders(node);
    renumber();
    if (window.htmx) { window.htmx.process(node); }
    var first = node.querySelector("input[type=text], textarea");
    if (first) { first.focus(); }
    return node;
  }

  function hasContent(block) {
    return all(block, "input[type=text], textarea").some(function (input) { return input.value.trim() !== ""; });
  }

  function varsChanged(pattern) {
    if (!pattern) { return; }
    clearTimeout(pattern._varsTimer);
    pattern._varsTimer = setTimeout(function () {
      all(pattern, ".expression-input").forEach(function (input) {
        input.dispatchEvent(new CustomEvent("vars-changed"));
      });
    }, 50);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (button && button.hasAttribute("data-infer")) { infer(); return; }
    if (!button || button.closest("[data-schema-editor]")) { return; }
    var kind = button.getAttribute("data-add");
    if (kind) {
      var scope = kind === "pattern" ? button.closest("[data-capability]") : kind === "var" ? button.closest("[data-pattern]") : form;
      addFromTemplate(kind, scope.querySelector("[data-rows=" + kind + "]"));
      if (kind === "var") { varsChanged(button.closest("[data-pattern]")); }
      return;
    }
    var block = button.closest("[data-block], [data-row]");
    if (!block) { return; }
    if (button.hasAttribute("data-remove")) {
      var isBlock = block.hasAttribute("data-block");
      var what = block.hasAttribute("data-capability") ? "this capability and its patterns" : "this pattern";
      if (isBlock && hasContent(block) && !window.confirm("Remove " + what + "?")) { return; }
      var pattern = block.parentNode.closest("[data-pattern]");
      block.remove();
      renumber();
      varsChanged(pattern);
    } else if (button.hasAttribute("data-move")) {
      var up = button.getAttribute("data-move") === "up";
      var sibling = up ? block.previousElementSibling : block.nextElementSibling;
      if (!sibling) { return; }
      block.parentNode.insertBefore(block, up ? sibling : sibling.nextElementSibling);
      renumber();
      button.focus();
    }
  });

  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.closest("[data-rows=var]")) { varsChanged(target.closest("[data-pattern]")); }
    if (target.id) {
      all(form, "[data-name-of='" + target.id + "']").forEach(function (label) { label.textContent = target.value; });
    }
  });

  // Enter in a one-line box does not submit the whole editor by accident.
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.tagName === "INPUT" && ["submit", "button", "checkbox", "radio"].indexOf(target.type) < 0) {
      event.preventDefault();
    }
  });

  // Sliders show their value next to their label.
  function setupSliders(root) {
    all(root, "input[type=range]").forEach(function (slider) {
      var output = root.querySelector("output[for='" + slider.id + "']") || slider.parentNode.querySelector("output");
      if (!output) { return; }
      output.textContent = slider.value;
      slider.addEventListener("input", function () { output.textContent = slider.value; });
    });
  }

  // Links to a field inside a closed pattern open it first.
  function reveal(id) {
    var target = id && document.getElementById(id);
    if (!target) { return; }
    for (var d = target.closest("details"); d; d = d.parentNode.closest("details")) { d.open = true; }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (link) { reveal(decodeURIComponent(link.getAttribute("href").slice(1))); }
  });

  showJsOnly(form);
  setupSliders(form);
  if (location.hash) { reveal(decodeURIComponent(location.hash.slice(1))); }
  var summary = document.getElementById("error-summary") || document.getElementById("stale-edit");
  if (summary) { summary.focus(); }
})();
