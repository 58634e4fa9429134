// Writes the copy of Venice's OpenAPI file that Stoplight Prism validates requests against:
//   node tools/prism-spec.js IN.yaml OUT.json
// (run with NODE_PATH pointing at Prism's node_modules: the YAML is read by Prism's own parser,
// @stoplight/yaml, so that values such as the aspect ratio 16:9 stay strings). Two fixes:
//  - a schema with `nullable: true` and no `type` makes Prism skip the validation of the whole
//    body: a `{ title: "null", nullable: true }` member of anyOf/oneOf becomes "null only"
//    (type string, nullable, enum [null]); any other loses its `nullable` ({} already takes null);
//  - a documented `Content-Encoding` response header makes Prism send `Content-Encoding: gzip`
//    over plain bytes: those header entries are dropped.
"use strict";
const fs = require("fs");
const yaml = require("@stoplight/yaml");

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node tools/prism-spec.js IN.yaml OUT.json");
  process.exit(2);
}
const doc = yaml.parse(fs.readFileSync(input, "utf8"));
let nullable = 0, encodings = 0;

function walk(node) {
  if (Array.isArray(node)) { node.forEach(walk); return; }
  if (node === null || typeof node !== "object") return;
  if (node.nullable === true && node.type === undefined && node.$ref === undefined
      && node.anyOf === undefined && node.oneOf === undefined && node.allOf === undefined) {
    nullable++;
    if (node.title === "null") {
      node.type = "string";
      node.enum = [null];
    } else {
      delete node.nullable;
    }
  }
  for (const key of Object.keys(node)) {
    if (key === "headers" && node[key] && typeof node[key] === "object" && !Array.isArray(node[key])) {
      for (const name of Object.keys(node[key])) {
        if (name.toLowerCase() === "content-encoding") { delete node[key][name]; encodings++; }
      }
    }
    walk(node[key]);
  }
}
walk(doc);
fs.writeFileSync(output, JSON.stringify(doc));
console.log(`prism-spec: ${output}: ${nullable} nullable schemas without a type, ${encodings} Content-Encoding headers fixed`);
